-- gym_mame bridge: MAME's -autoboot_script for the Python package gym_mame.
--
-- It connects back to the Python process that launched MAME (ZeroMQ PAIR over
-- a Unix-domain or loopback TCP socket; see zmtp.lua) and answers a small
-- binary request/reply protocol. Every request is decoded field by field;
-- nothing received is ever loaded or run as code.
--
-- While it waits for a request, MAME's emulation is held inside a frame
-- callback. The wait is a blocking one-byte read from stdin, a pipe from the
-- parent, which the parent writes after each request: that costs no CPU, and
-- end-of-file there means the parent is gone, so MAME exits with it.
--
-- Environment: GYM_MAME_ENDPOINT (required; "domain./path" or
-- "socket.127.0.0.1:port"), GYM_MAME_LUA_DIR (this folder),
-- GYM_MAME_DOORBELL ("stdin" or "none").

local PROTOCOL_VERSION = 1

local OP_HELLO, OP_DESCRIBE, OP_CONFIGURE, OP_STEP = 1, 2, 3, 4
local OP_SAVE_STATE, OP_LOAD_STATE, OP_READ_MEMORY, OP_WRITE_MEMORY = 5, 6, 7, 8
local OP_SHUTDOWN = 9
local STATUS_OK, STATUS_ERROR = 0, 1
local STEP_WANT_PIXELS, STEP_WANT_READS, STEP_READS_EVERY_FRAME = 1, 2, 4
local READ_MEMORY, READ_STATE, READ_ITEM = 1, 2, 3

local lua_dir = os.getenv("GYM_MAME_LUA_DIR")
  or debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local zmtp = dofile(lua_dir .. "/zmtp.lua")
local json = dofile(lua_dir .. "/json.lua")
local machine = dofile(lua_dir .. "/machine.lua")

local endpoint = os.getenv("GYM_MAME_ENDPOINT")
if not endpoint then
  print("gym_mame bridge: GYM_MAME_ENDPOINT is not set; this script is started by gym_mame")
  os.exit(3)
end
local use_doorbell = (os.getenv("GYM_MAME_DOORBELL") or "stdin") == "stdin"
local CONNECT_TIMEOUT = 10   -- seconds of polling for the handshake
local MESSAGE_TIMEOUT = 10   -- seconds of polling after the doorbell rang

local conn = zmtp.connect(endpoint, "PAIR", os.clock() + CONNECT_TIMEOUT)

-- What CONFIGURE set up, used by every STEP.
local config = {
  screen = nil,   -- screen device for pixels
  inputs = {},    -- ioport fields, in the order STEP sends their values
  last = {},      -- last value set per input (skip unchanged ones)
  memory = {},    -- {space, first, last} per memory read
  state = {},     -- state entries per state read
}

-- A STEP in progress: its segments, the current one, frames left in it.
local step = nil
local frame_count = 0

local function reply(status, ...)
  conn:send_parts({ string.char(status), ... })
end

local function apply_inputs(values)
  for i, field in ipairs(config.inputs) do
    local v = values[i]
    if config.last[i] ~= v then
      field:set_value(v)
      config.last[i] = v
    end
  end
end

-- The configured reads, as one string: memory bytes, then state values as doubles.
local function read_all()
  local parts = {}
  for _, r in ipairs(config.memory) do
    parts[#parts + 1] = r.space:read_range(r.first, r.last, 8)
  end
  local values = {}
  for i, entry in ipairs(config.state) do values[i] = entry.value end
  if #values > 0 then
    parts[#parts + 1] = string.pack("<" .. string.rep("d", #values), table.unpack(values))
  end
  return table.concat(parts)
end

local function step_reply()
  local parts = { string.pack("<I8d", frame_count, manager.machine.time:as_double()) }
  if step.flags & STEP_READS_EVERY_FRAME ~= 0 then
    parts[#parts + 1] = table.concat(step.reads)  -- one block per frame, the last one last
  elseif step.flags & STEP_WANT_READS ~= 0 then
    parts[#parts + 1] = read_all()
  end
  if step.flags & STEP_WANT_PIXELS ~= 0 then
    local pixels, width, height = config.screen:pixels()
    parts[#parts + 1] = string.pack("<I2I2", width, height)
    parts[#parts + 1] = pixels
  end
  reply(STATUS_OK, table.unpack(parts))
end

-- Request handlers. Each takes the request body and the offset after the
-- opcode, and returns reply parts, or returns true for a STEP (the reply is
-- sent when its frames have run). Errors become error replies.
local handlers = {}

handlers[OP_HELLO] = function(body, pos)
  local version = string.unpack("<I2", body, pos)
  if version ~= PROTOCOL_VERSION then
    error(string.format("protocol version %d requested; this bridge speaks %d",
                        version, PROTOCOL_VERSION))
  end
  return { string.pack("<I2", PROTOCOL_VERSION) }
end

handlers[OP_DESCRIBE] = function()
  return { json.encode(machine.describe()) }
end

handlers[OP_CONFIGURE] = function(body, pos)
  local new = { inputs = {}, last = {}, memory = {}, state = {} }
  local screen_tag, n_inputs
  screen_tag, n_inputs, pos = string.unpack("<s2I2", body, pos)
  new.screen = machine.screen(screen_tag)
  for i = 1, n_inputs do
    local port, field
    port, field, pos = string.unpack("<s2s2", body, pos)
    new.inputs[i] = machine.field(port, field)
  end
  local n_reads, mem_bytes = nil, 0
  n_reads, pos = string.unpack("<I2", body, pos)
  for _ = 1, n_reads do
    local kind, device, name
    kind, device, name, pos = string.unpack("<Bs2s2", body, pos)
    if kind == READ_MEMORY then
      local address, length
      address, length, pos = string.unpack("<I8I4", body, pos)
      if length == 0 then error("memory read of 0 bytes") end
      new.memory[#new.memory + 1] = { space = machine.space(device, name),
                                      first = address, last = address + length - 1 }
      mem_bytes = mem_bytes + length
    elseif kind == READ_STATE then
      new.state[#new.state + 1] = machine.state_entry(device, name)
    elseif kind == READ_ITEM then
      new.state[#new.state + 1] = machine.save_item(device, name)
    else
      error("unknown read kind " .. kind)
    end
  end
  config = new
  return { string.pack("<I4I2", mem_bytes, #new.state) }
end

handlers[OP_STEP] = function(body, pos)
  if not config.screen then error("STEP before CONFIGURE") end
  local flags, n_segments
  flags, n_segments, pos = string.unpack("<BI2", body, pos)
  if n_segments == 0 then error("STEP with no segments") end
  local n_inputs = #config.inputs
  local fmt = "<I4" .. string.rep("i4", n_inputs)
  local segments = {}
  for i = 1, n_segments do
    local fields = { string.unpack(fmt, body, pos) }
    pos = fields[n_inputs + 2]
    if fields[1] == 0 then error("STEP segment with 0 frames") end
    segments[i] = { frames = fields[1], values = { table.unpack(fields, 2, n_inputs + 1) } }
  end
  if pos <= #body then error("STEP request has " .. (#body - pos + 1) .. " extra bytes") end
  step = { flags = flags, segments = segments, index = 1, left = segments[1].frames, reads = {} }
  apply_inputs(segments[1].values)
  return true
end

-- Save and load are scheduled by MAME and happen when the current frame
-- callback returns, i.e. before the next STEP's first frame runs.
handlers[OP_SAVE_STATE] = function(body, pos)
  manager.machine:save((string.unpack("<s2", body, pos)))
  return {}
end

handlers[OP_LOAD_STATE] = function(body, pos)
  manager.machine:load((string.unpack("<s2", body, pos)))
  config.last = {}  -- a loaded state may carry other input values
  return {}
end

handlers[OP_READ_MEMORY] = function(body, pos)
  local device, space, address, length = string.unpack("<s2s2I8I4", body, pos)
  if length == 0 then return { "" } end
  return { machine.space(device, space):read_range(address, address + length - 1, 8) }
end

handlers[OP_WRITE_MEMORY] = function(body, pos)
  local device, space, address, data = string.unpack("<s2s2I8s4", body, pos)
  local s = machine.space(device, space)
  for i = 1, #data do s:write_u8(address + i - 1, data:byte(i)) end
  return {}
end

handlers[OP_SHUTDOWN] = function()
  reply(STATUS_OK)
  os.exit(0)
end

local function wait_request()
  if use_doorbell then
    if io.stdin:read(1) == nil then os.exit(0) end  -- the parent is gone
  end
  conn.deadline = use_doorbell and os.clock() + MESSAGE_TIMEOUT or nil
  return conn:recv()
end

-- Answer requests until one of them is a STEP; then return to emulation.
local function serve()
  while true do
    local body = wait_request()
    local ok, result = pcall(function()
      if #body == 0 then error("empty request") end
      local handler = handlers[body:byte(1)]
      if not handler then error("unknown request opcode " .. body:byte(1)) end
      return handler(body, 2)
    end)
    if not ok then
      reply(STATUS_ERROR, tostring(result))
    elseif result == true then
      return
    else
      reply(STATUS_OK, table.unpack(result))
    end
  end
end

local last_frame_number = nil

local function on_frame()
  -- Some drivers (e.g. TTL netlists) call frame hooks more than once per
  -- screen frame: count frames by the screen's own frame number.
  local screen = config.screen or machine.screen("")
  local number = screen:frame_number()
  if number == last_frame_number then return end
  last_frame_number = number
  frame_count = frame_count + 1
  if not step then return end
  -- Rules evaluated per frame (ALE's terminal conditions) need every frame's reads.
  if step.flags & STEP_READS_EVERY_FRAME ~= 0 then step.reads[#step.reads + 1] = read_all() end
  step.left = step.left - 1
  if step.left > 0 then return end
  if step.index < #step.segments then
    step.index = step.index + 1
    local segment = step.segments[step.index]
    step.left = segment.frames
    apply_inputs(segment.values)
    return
  end
  local ok, err = pcall(step_reply)
  step = nil
  if not ok then reply(STATUS_ERROR, tostring(err)) end
  serve()
end

-- Newer MAME renamed the frame hook; keep the subscription referenced.
local add_frame_notifier = emu.add_machine_frame_notifier or emu.register_frame_done
FRAME_SUBSCRIPTION = add_frame_notifier(on_frame)

serve()
