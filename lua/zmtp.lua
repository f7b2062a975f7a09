-- A minimal ZeroMQ peer (ZMTP 3.0, NULL security) over MAME's emu.file sockets.
--
-- MAME's Lua has no ZeroMQ binding and we may not load native modules, so this
-- speaks the wire protocol (rfc.zeromq.org/spec/23) directly. Only what a PAIR
-- socket needs is implemented: greeting, READY handshake, data frames (short
-- and long, multi-part), and a PONG answer to heartbeats.
--
-- emu.file reads never block (MAME polls with a zero timeout), so waiting for
-- bytes means polling. Callers that can wait somewhere cheaper (the bridge
-- waits on a pipe from its parent) only poll here for the short moment between
-- "a message was announced" and "its bytes have arrived".

local zmtp = {}

local Conn = {}
Conn.__index = Conn

local FLAG_MORE, FLAG_LONG, FLAG_COMMAND = 1, 2, 4
local READ_CHUNK = 65536
local WRITE_CHUNK = 65536

-- Greeting: signature, version 3.0, mechanism "NULL", as-server = 0, filler.
local GREETING = "\255" .. string.rep("\0", 8) .. "\127" .. "\3\0"
  .. "NULL" .. string.rep("\0", 16) .. "\0" .. string.rep("\0", 31)

local function command_frame(body)
  if #body < 256 then
    return string.pack(">BB", FLAG_COMMAND, #body) .. body
  end
  return string.pack(">BI8", FLAG_COMMAND | FLAG_LONG, #body) .. body
end

local function ready_command(socket_type)
  local name = "Socket-Type"
  return command_frame("\5READY" .. string.pack(">s1s4", name, socket_type))
end

-- Parse a READY command's metadata into a table (names lower-cased: ZMTP
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

-- Connect to `endpoint` ("domain./path" or "socket.host:port") and complete
-- the handshake. `deadline` is an os.clock() value; `idle` is called while
-- polling so the caller can give up (e.g. its parent died).
function zmtp.connect(endpoint, socket_type, deadline)
  local file = emu.file("rw")
  local err = file:open(endpoint)
  if err then
    error(string.format("cannot connect to %s: %s", endpoint, tostring(err)))
  end
  local self = setmetatable({ file = file, buf = "", deadline = deadline }, Conn)
  self:write(GREETING)
  local greeting = self:read_exact(64)
  if greeting:byte(1) ~= 0xFF or greeting:byte(10) ~= 0x7F then
    error("peer is not a ZeroMQ socket (bad greeting signature)")
  end
  if greeting:byte(11) < 3 then
    error("peer speaks ZMTP " .. greeting:byte(11) .. ".x; 3.x is required")
  end
  local mechanism = greeting:sub(13, 32):gsub("%z+$", "")
  if mechanism ~= "NULL" then
    error("peer asks for security mechanism " .. mechanism .. "; only NULL is supported")
  end
  self:write(ready_command(socket_type))
  local is_command, body = self:read_frame()
  if not is_command or body:sub(1, 6) ~= "\5READY" then
    error("peer did not send READY")
  end
  local props = parse_metadata(body, 7)
  if props["socket-type"] ~= socket_type then
    error("peer socket type is " .. tostring(props["socket-type"]) .. ", expected " .. socket_type)
  end
  self.deadline = nil
  return self
end

function Conn:check_deadline()
  if self.deadline and os.clock() > self.deadline then
    error("timed out waiting for the Python side")
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
    if not self:fill() then self:check_deadline() end
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
function Conn:write(data)
  local n = self.file:write(data) or 0
  local len = #data
  while n < len do
    local m = self.file:write(data:sub(n + 1, n + WRITE_CHUNK)) or 0
    n = n + m
  end
end

-- Receive one message; multi-part messages are joined (the protocol on top
-- uses single-part messages). Heartbeat PINGs are answered on the way.
function Conn:recv()
  local parts = {}
  while true do
    local is_command, body, more = self:read_frame()
    if is_command then
      local name_len = body:byte(1)
      local name = body:sub(2, 1 + name_len)
      if name == "PING" then
        -- PING: name, TTL (2 bytes), context; PONG echoes the context.
        self:write(command_frame("\4PONG" .. body:sub(2 + name_len + 2)))
      elseif name == "ERROR" then
        error("peer sent ZMTP ERROR: " .. body:sub(3 + name_len))
      end
    else
      parts[#parts + 1] = body
      if not more then return table.concat(parts) end
    end
  end
end

-- Send one single-part message whose body is the concatenation of `parts`
-- (a list of strings), without building the concatenation: pixel buffers are
-- hundreds of kilobytes and copying them again would cost a frame's worth.
function Conn:send_parts(parts)
  local size = 0
  for i = 1, #parts do size = size + #parts[i] end
  if size < 256 then
    self:write(string.pack(">BB", 0, size))
  else
    self:write(string.pack(">BI8", FLAG_LONG, size))
  end
  for i = 1, #parts do self:write(parts[i]) end
end

function Conn:send(message)
  self:send_parts({ message })
end

function Conn:close()
  self.file:close()
end

return zmtp
