-- A minimal ZeroMQ peer (ZMTP 3.0) over MAME's emu.file sockets.
--
-- MAME's Lua has no ZeroMQ binding and we may not load native modules, so this
-- speaks the wire protocol (rfc.zeromq.org/spec/23) directly. Only what a PAIR
-- socket that only sends needs is implemented: greeting, handshake and data
-- frames (short and long). (The bridge receives its requests on a pipe.)
--
-- Security: with a password the handshake uses the PLAIN mechanism
-- (rfc.zeromq.org/spec/24) as its client: HELLO carries the user name and the
-- password, the server answers WELCOME, then INITIATE / READY exchange the
-- socket metadata. The Python side accepts only the password it gave this MAME,
-- so no other local process can pose as it. Without a password: NULL.
--
-- emu.file reads never block (MAME polls with a zero timeout), so waiting for
-- bytes means polling: only the handshake waits here, with a wall-clock
-- deadline, as do writes to a peer that stops reading (an error, never an
-- endless spin).

local zmtp = {}

local Conn = {}
Conn.__index = Conn

local FLAG_MORE, FLAG_LONG, FLAG_COMMAND = 1, 2, 4
local READ_CHUNK = 65536
local WRITE_CHUNK = 65536

-- Seconds on the host's clock (MAME's osd_ticks); os.clock() is CPU time.
function zmtp.now()
  return emu.osd_ticks() / emu.osd_ticks_per_second()
end

-- Greeting: signature, version 3.0, mechanism, as-server = 0, filler.
local function greeting(mechanism)
  return "\255" .. string.rep("\0", 8) .. "\127" .. "\3\0"
    .. mechanism .. string.rep("\0", 20 - #mechanism) .. "\0" .. string.rep("\0", 31)
end

local function command_frame(body)
  if #body < 256 then
    return string.pack(">BB", FLAG_COMMAND, #body) .. body
  end
  return string.pack(">BI8", FLAG_COMMAND | FLAG_LONG, #body) .. body
end

local function command(name, body)
  return command_frame(string.pack(">s1", name) .. (body or ""))
end

local function metadata(socket_type)
  return string.pack(">s1s4", "Socket-Type", socket_type)
end

-- Parse a command body into its name and the offset of what follows.
local function command_name(body)
  local name, pos = string.unpack(">s1", body)
  return name, pos
end

-- Parse READY/INITIATE metadata into a table (names lower-cased: ZMTP
-- property names are case-insensitive).
local function parse_metadata(body, pos)
  local props = {}
  while pos <= #body do
    local name, value
    name, value, pos = string.unpack(">s1s4", body, pos)
    props[name:lower()] = value
  end
  return props
end

-- Expect a command called `name` from the peer; an ERROR command says why not.
function Conn:expect_command(name)
  local is_command, body = self:read_frame()
  if not is_command then error("peer sent data during the handshake") end
  local got, pos = command_name(body)
  if got == "ERROR" then
    error("the Python side refused this MAME: " .. string.unpack(">s1", body, pos))
  end
  if got ~= name then error("peer sent " .. got .. " where " .. name .. " was expected") end
  return body, pos
end

-- Connect to `endpoint` ("domain./path" or "socket.host:port") and complete
-- the handshake within `timeout` seconds. `username`/`password`: PLAIN.
function zmtp.connect(endpoint, socket_type, timeout, username, password)
  local file = emu.file("rw")
  local err = file:open(endpoint)
  if err then
    error(string.format("cannot connect to %s: %s", endpoint, tostring(err)))
  end
  local self = setmetatable({ file = file, buf = "" }, Conn)
  self.deadline = zmtp.now() + timeout
  local mechanism = password and "PLAIN" or "NULL"
  self:write(greeting(mechanism))
  local peer = self:read_exact(64)
  if peer:byte(1) ~= 0xFF or peer:byte(10) ~= 0x7F then
    error("peer is not a ZeroMQ socket (bad greeting signature)")
  end
  if peer:byte(11) < 3 then
    error("peer speaks ZMTP " .. peer:byte(11) .. ".x; 3.x is required")
  end
  local peer_mechanism = peer:sub(13, 32):gsub("%z+$", "")
  if peer_mechanism ~= mechanism then
    error("peer uses security mechanism " .. peer_mechanism .. ", this MAME " .. mechanism)
  end
  local props
  if password then
    self:write(command("HELLO", string.pack(">s1s1", username or "", password)))
    self:expect_command("WELCOME")
    self:write(command("INITIATE", metadata(socket_type)))
    props = parse_metadata(self:expect_command("READY"))
  else
    self:write(command("READY", metadata(socket_type)))
    props = parse_metadata(self:expect_command("READY"))
  end
  if props["socket-type"] ~= socket_type then
    error("peer socket type is " .. tostring(props["socket-type"]) .. ", expected " .. socket_type)
  end
  self.deadline = nil
  return self
end

function Conn:check_deadline(what)
  if self.deadline and zmtp.now() > self.deadline then
    error("timed out " .. what .. " the Python side")
  end
end

-- Append whatever has arrived to the buffer; returns true if anything came.
function Conn:fill()
  local data = self.file:read(READ_CHUNK)
  if data and #data > 0 then
    self.buf = self.buf .. data
    return true
  end
  return false
end

function Conn:read_exact(n)
  while #self.buf < n do
    if not self:fill() then self:check_deadline("waiting for") end
  end
  local out = self.buf:sub(1, n)
  self.buf = self.buf:sub(n + 1)
  return out
end

-- Read one frame; returns is_command, body, more.
function Conn:read_frame()
  local flags = self:read_exact(1):byte()
  local size
  if flags & FLAG_LONG ~= 0 then
    size = string.unpack(">I8", self:read_exact(8))
  else
    size = self:read_exact(1):byte()
  end
  local body = self:read_exact(size)
  return flags & FLAG_COMMAND ~= 0, body, flags & FLAG_MORE ~= 0
end

-- Write a string completely. Socket writes may be partial (the socket is
-- non-blocking); usually the whole string goes at once, so only copy on retry.
-- A peer that stops reading for WRITE_TIMEOUT seconds is an error.
local WRITE_TIMEOUT = 10
function Conn:write(data)
  local n = self.file:write(data) or 0
  local len = #data
  local stalled_since = nil
  while n < len do
    local m = self.file:write(data:sub(n + 1, n + WRITE_CHUNK)) or 0
    n = n + m
    if m > 0 then
      stalled_since = nil
    elseif not stalled_since then
      stalled_since = zmtp.now()
    elseif zmtp.now() - stalled_since > WRITE_TIMEOUT then
      error("the Python side stopped reading (a reply could not be written for "
            .. WRITE_TIMEOUT .. " s)")
    end
  end
end

-- Send one single-part message whose body is the concatenation of `parts`
-- (a list of strings). The frame header and every part but the last go out in
-- one write (each write is a system call); the last part, a frame's pixels when
-- there are any (hundreds of kilobytes), is written as it is, not copied again.
function Conn:send_parts(parts)
  local size = 0
  for i = 1, #parts do size = size + #parts[i] end
  local head = size < 256 and string.pack(">BB", 0, size) or string.pack(">BI8", FLAG_LONG, size)
  local last = parts[#parts]
  if #last < 4096 then
    self:write(head .. table.concat(parts))
  else
    self:write(head .. table.concat(parts, "", 1, #parts - 1))
    self:write(last)
  end
end

function Conn:send(message)
  self:send_parts({ message })
end

function Conn:close()
  self.file:close()
end

return zmtp
