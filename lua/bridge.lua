-- gym_mame bridge: MAME's -autoboot_script for the Python package gym_mame.
--
-- It answers a small binary request/reply protocol. Requests come down stdin,
-- a pipe from the Python process that launched MAME, each as its length (4
-- bytes), a tag (8 bytes) and its body; replies, led by their request's tag (so
-- that Python knows a late reply to a request it gave up on), go back over ZeroMQ (a PAIR socket over a
-- Unix-domain or loopback TCP socket, authenticated; see zmtp.lua). Every
-- request is decoded field by field; nothing received is ever run as code.
--
-- While it waits for a request, MAME's emulation is held inside a frame
-- callback, blocked reading the pipe: that costs no CPU, and end-of-file there
-- means the parent is gone, so MAME exits with it. (Requests once came over
-- ZeroMQ too, announced by one byte on this pipe; MAME then had to poll its
-- socket until the request's bytes arrived, and on a machine with no spare
-- core that poll kept ZeroMQ's own I/O thread, which delivers them, from
-- running: two MAMEs on two cores ran one after the other.)
--
-- Failures never leave MAME spinning: a bad request gets an error reply, a
-- read that fails during a STEP ends that STEP with an error reply, and
-- anything that breaks the connection itself ends MAME with a message on
-- stderr (which the Python side shows).
--
-- Environment: GYM_MAME_ENDPOINT (required; "domain./path" or
-- "socket.127.0.0.1:port"), GYM_MAME_SECRET (the PLAIN password),
-- GYM_MAME_LUA_DIR (this folder), and parent.lua's variables.

local PROTOCOL_VERSION = 3

local OP_HELLO, OP_DESCRIBE, OP_CONFIGURE, OP_STEP = 1, 2, 3, 4
local OP_SAVE_STATE, OP_LOAD_STATE, OP_READ_MEMORY, OP_WRITE_MEMORY = 5, 6, 7, 8
local OP_SHUTDOWN, OP_STATE_INFO, OP_FLUSH = 9, 10, 11
local STATUS_OK, STATUS_ERROR = 0, 1
local STEP_WANT_PIXELS, STEP_WANT_READS, STEP_READS_EVERY_FRAME = 1, 2, 4
local READ_MEMORY, READ_STATE, READ_ITEM = 1, 2, 3
local INPUT_DIGITAL, INPUT_ANALOG, INPUT_DIAL = 0, 1, 2
local MAX_READ_BYTES = 64 << 20       -- one READ_MEMORY request
local CONNECT_TIMEOUT = 10            -- seconds for the handshake
local PARENT_CHECK_FRAMES = 64        -- how often a long STEP checks on the parent
local SAME_POINT = 1e-9               -- seconds: two frame-hook calls at one point in time

local lua_dir = os.getenv("GYM_MAME_LUA_DIR")
  or debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local zmtp = dofile(lua_dir .. "/zmtp.lua")
local json = dofile(lua_dir .. "/json.lua")
local machine = dofile(lua_dir .. "/machine.lua")
local parent = dofile(lua_dir .. "/parent.lua")

-- Anything that breaks the bridge itself (not a single request) ends MAME:
-- Python then reports MAME's exit with this message.
local function fatal(message)
  io.stderr:write("gym_mame bridge: " .. tostring(message) .. "\n")
  io.stderr:flush()
  os.exit(4)
end

local endpoint = os.getenv("GYM_MAME_ENDPOINT")
if not endpoint then
  fatal("GYM_MAME_ENDPOINT is not set; this script is started by gym_mame")
end

local ok_connect, conn = pcall(zmtp.connect, endpoint, "PAIR", CONNECT_TIMEOUT, "gym_mame",
                               os.getenv("GYM_MAME_SECRET"))
if not ok_connect then fatal(conn) end

-- What CONFIGURE set up, used by every STEP.
local config = {
  screen = nil,   -- screen device for pixels
  inputs = {},    -- {field, analog, wrap, low, high} in the order STEP sends their values
  analog = {},    -- indices of the analog inputs in `inputs`
  memory = {},    -- {space, first, last} per memory read
  state = {},     -- state entries per state read
}
local set_values = {}   -- last value given to each input field (unchanged ones are skipped)
local positions = {}    -- analog inputs: position (a float; MAME gets it rounded)

-- What the emulation is doing for Python: nil while serving requests, else a
-- job with a frame(self) method called after every emulated frame.
local job = nil
local frame_count = 0
local load_check = nil  -- {name, time}: a load to verify at the next frame

local request_tag = 0  -- the tag of the request being served (its reply echoes it)

local function reply(status, ...)
  conn:send_parts({ string.pack("<I8", request_tag) .. string.char(status), ... })
end

-- An error as Python shows it: the message, without Lua's "file.lua:line:" prefixes.
local function reply_error(err)
  reply(STATUS_ERROR, (tostring(err):gsub("[%w_/.%-]+%.lua:%d+: ", "")))
end

-- Round half to even, as Python's round() does, so that positions give the
-- same values whichever side computes them.
local function round_half_even(x)
  local f = math.floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
  return math.tointeger(f) or f
end

local function set_input(i, value)
  if set_values[i] ~= value then
    config.inputs[i].field:set_value(value)
    set_values[i] = value
  end
end

-- An analog position kept in range: clamped, or for a dial (a relative control
-- such as a spinner, whose game reads how far it turned) turned round the range.
local function in_range(input, position)
  if input.wrap then
    return input.low + (position - input.low) % (input.high - input.low + 1)
  end
  return math.min(math.max(position, input.low), input.high)
end

-- What MAME gets for a position: rounded (a dial's rounds up to high + 1 just
-- below the wrap, and that is low).
local function field_value(input, position)
  local value = round_half_even(position)
  if input.wrap and value > input.high then value = input.low end
  return value
end

-- Start a segment: digital values as given; analog inputs start from the given
-- position (NaN: where they are) and move by `speed` per frame.
local function start_segment(segment)
  for i, input in ipairs(config.inputs) do
    if input.analog then
      local position = segment.positions[i]
      if position == position then  -- NaN ~= NaN
        positions[i] = in_range(input, position)
      end
      set_input(i, field_value(input, positions[i]))
    else
      set_input(i, segment.values[i])
    end
  end
end

-- Before each frame: move the analog inputs the segment turns, and set them.
local function move_analog(segment)
  for _, i in ipairs(segment.moving) do
    local input = config.inputs[i]
    local position = in_range(input, positions[i] + segment.speeds[i])
    positions[i] = position
    set_input(i, field_value(input, position))
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

local function analog_positions()
  local parts = {}
  for _, i in ipairs(config.analog) do parts[#parts + 1] = string.pack("<d", positions[i]) end
  return table.concat(parts)
end

-- Request handlers. Each takes the request body and the offset after the
-- opcode and returns reply parts, or a job (the reply is sent when the job's
-- frames have run). Errors become error replies.
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

local function configure_input(body, pos)
  local port, field, kind, low, high
  port, field, kind, low, high, pos = string.unpack("<s2s2Bi4i4", body, pos)
  if kind ~= INPUT_DIGITAL and kind ~= INPUT_ANALOG and kind ~= INPUT_DIAL then
    error("unknown input kind " .. kind)
  end
  if low > high then error(string.format("input %s %s: min %d > max %d", port, field, low, high)) end
  local f = machine.field(port, field)
  if kind ~= INPUT_DIGITAL and not f.is_analog then
    error(string.format("input port '%s' field '%s' is a digital input (a button), not an "
                        .. "analog one; declare it without \"analog\"/\"dial\"", port, field))
  end
  return { field = f, analog = kind ~= INPUT_DIGITAL, wrap = kind == INPUT_DIAL,
           low = low, high = high }, pos
end

-- One configured read: looked up and tried once now, so that a read that
-- cannot work fails here with its variable's name, not on every frame.
local function configure_read(new, body, pos)
  local kind, label, device
  kind, label, device, pos = string.unpack("<Bs2s2", body, pos)
  local ok, err = pcall(function()
    if kind == READ_MEMORY then
      local space_name, address, length
      space_name, address, length, pos = string.unpack("<s2I8I4", body, pos)
      if length == 0 then error("reads 0 bytes") end
      local space = machine.space(device, space_name)
      machine.check_range(space, device, space_name, address, length)
      local read = { space = space, first = address, last = address + length - 1 }
      space:read_range(read.first, read.last, 8)
      new.memory[#new.memory + 1] = read
      new.mem_bytes = new.mem_bytes + length
    elseif kind == READ_STATE or kind == READ_ITEM then
      local name
      name, pos = string.unpack("<s2", body, pos)
      local entry = kind == READ_STATE and machine.state_entry(device, name)
        or machine.save_item(device, name)
      local _ = entry.value
      new.state[#new.state + 1] = entry
    else
      error("unknown read kind " .. kind)
    end
  end)
  if not ok then error("variable '" .. label .. "': " .. tostring(err), 0) end
  return pos
end

handlers[OP_CONFIGURE] = function(body, pos)
  local new = { inputs = {}, analog = {}, memory = {}, state = {}, mem_bytes = 0 }
  local screen_tag, n_inputs
  screen_tag, n_inputs, pos = string.unpack("<s2I2", body, pos)
  new.screen = machine.screen(screen_tag)
  for i = 1, n_inputs do
    new.inputs[i], pos = configure_input(body, pos)
    if new.inputs[i].analog then new.analog[#new.analog + 1] = i end
  end
  local n_reads
  n_reads, pos = string.unpack("<I2", body, pos)
  for _ = 1, n_reads do pos = configure_read(new, body, pos) end
  if pos <= #body then error("CONFIGURE request has " .. (#body - pos + 1) .. " extra bytes") end
  config = new
  set_values = {}
  positions = {}
  for _, i in ipairs(new.analog) do
    local input = new.inputs[i]
    positions[i] = in_range(input, input.field.defvalue)
  end
  return { string.pack("<I4I2I2", new.mem_bytes, #new.state, #new.analog) }
end

-- A STEP: run each segment's frames with its inputs, reply after the last.
local StepJob = {}
StepJob.__index = StepJob

function StepJob:frame()
  -- Rules evaluated per frame (ALE's terminal conditions) need every frame's reads.
  if self.flags & STEP_READS_EVERY_FRAME ~= 0 then self.reads[#self.reads + 1] = read_all() end
  self.left = self.left - 1
  if self.left > 0 then
    move_analog(self.segments[self.index])
    return false
  end
  if self.index < #self.segments then
    self.index = self.index + 1
    local segment = self.segments[self.index]
    self.left = segment.frames
    start_segment(segment)
    move_analog(segment)
    return false
  end
  local parts = { string.pack("<I8d", frame_count, manager.machine.time:as_double()),
                  analog_positions() }
  if self.flags & STEP_READS_EVERY_FRAME ~= 0 then
    parts[#parts + 1] = table.concat(self.reads)  -- one block per frame, the last one last
  elseif self.flags & STEP_WANT_READS ~= 0 then
    parts[#parts + 1] = read_all()
  end
  if self.flags & STEP_WANT_PIXELS ~= 0 then
    local pixels, width, height = config.screen:pixels()
    parts[#parts + 1] = string.pack("<I2I2", width, height)
    parts[#parts + 1] = pixels
  end
  reply(STATUS_OK, table.unpack(parts))
  return true
end

handlers[OP_STEP] = function(body, pos)
  if not config.screen then error("STEP before CONFIGURE") end
  local flags, n_segments
  flags, n_segments, pos = string.unpack("<BI2", body, pos)
  if n_segments == 0 then error("STEP with no segments") end
  local segments = {}
  for s = 1, n_segments do
    local segment = { values = {}, positions = {}, speeds = {}, moving = {} }
    segment.frames, pos = string.unpack("<I4", body, pos)
    if segment.frames == 0 then error("STEP segment with 0 frames") end
    for i, input in ipairs(config.inputs) do
      if input.analog then
        segment.positions[i], segment.speeds[i], pos = string.unpack("<dd", body, pos)
        if segment.speeds[i] ~= segment.speeds[i] then error("analog speed is NaN") end
        if segment.speeds[i] ~= 0 then segment.moving[#segment.moving + 1] = i end
      else
        segment.values[i], pos = string.unpack("<i4", body, pos)
      end
    end
    segments[s] = segment
  end
  if pos <= #body then error("STEP request has " .. (#body - pos + 1) .. " extra bytes") end
  local step = setmetatable({ flags = flags, segments = segments, index = 1,
                              left = segments[1].frames, reads = {} }, StepJob)
  start_segment(segments[1])
  move_analog(segments[1])
  return step
end

-- Save and load are scheduled by MAME: either happens when the current frame
-- callback returns, before the next frame runs, and MAME reports no result.
-- So a SAVE replies at once and the state is written as the next STEP starts
-- (saving does not move the game on); that STEP's first frame checks the file
-- and notes the emulated time the frame after the saved point has. A LOAD also
-- replies at once; the next frame checks that the machine is at the loaded
-- point by that time. MAME can schedule one save or load at a time, so a LOAD
-- (or a FLUSH) while a save waits first lets one frame run to write it.
local saved_times = {}     -- state name -> emulated time of the frame after it
local saved_points = {}    -- state name -> emulated time of the saved point itself
local pending_saves = {}   -- names saved at the current point, the first scheduled
local pending_load = nil   -- a state scheduled to load before the next frame
local pending_point = nil  -- emulated time at which the waiting saves were scheduled
local last_frame_number = nil

local function screen_frame()
  return (config.screen or machine.screen("")):frame_number()
end

local function schedule_load(name)
  manager.machine:load(name)
  set_values = {}           -- a loaded state may carry other input values
  last_frame_number = nil   -- the frame after a load may repeat a frame number
  pending_load = name
  load_check = { name = name, time = saved_times[name], point = saved_points[name] }
end

local function copy_file(from, to)
  local src = assert(io.open(from, "rb"))
  local data = src:read("a")
  src:close()
  local dst = assert(io.open(to, "wb"))
  dst:write(data)
  dst:close()
end

-- At the first frame after the saved point: the file must be there; the other
-- names saved at that point get copies.
local function complete_saves()
  local names = pending_saves
  pending_saves = {}
  local first = machine.state_path(names[1])
  if not machine.state_file_ok(first) then
    error("MAME did not write the save state '" .. names[1] .. "' (it defers saves while "
          .. "timers are pending; try saving a frame later)")
  end
  local time = manager.machine.time:as_double()
  for i, name in ipairs(names) do
    if i > 1 then copy_file(first, machine.state_path(name)) end
    saved_times[name] = time
    saved_points[name] = pending_point
  end
  return names[1]
end

-- A load (or a load back, for FLUSH) after one frame that writes a waiting save.
local FlushJob = {}
FlushJob.__index = FlushJob

function FlushJob:frame()
  local saved = complete_saves()
  frame_count = self.frame_count  -- the flush frame is not part of the game
  schedule_load(self.load or saved)
  reply(STATUS_OK)
  return true
end

local function flush_then_load(name)
  return setmetatable({ load = name, frame_count = frame_count }, FlushJob)
end

handlers[OP_SAVE_STATE] = function(body, pos)
  local name = string.unpack("<s2", body, pos)
  local path = machine.state_path(name)
  if pending_load then
    -- The next STEP starts from the state being loaded: that is the one to keep.
    copy_file(machine.state_path(pending_load), path)
    saved_times[name] = saved_times[pending_load]
    saved_points[name] = saved_points[pending_load]
  elseif #pending_saves > 0 then
    pending_saves[#pending_saves + 1] = name  -- the same point: copied when written
  else
    os.remove(path)  -- so that the file found later is this save's
    saved_times[name] = nil
    pending_point = manager.machine.time:as_double()
    manager.machine:save(name)
    pending_saves = { name }
  end
  return {}
end

local function is_pending_save(name)
  for _, pending in ipairs(pending_saves) do
    if pending == name then return true end
  end
  return false
end

handlers[OP_LOAD_STATE] = function(body, pos)
  local name = string.unpack("<s2", body, pos)
  local path = machine.state_path(name)
  if not is_pending_save(name) and not machine.state_file_ok(path) then
    error("no save state '" .. name .. "' (" .. path .. ") for " .. emu.romname())
  end
  if #pending_saves > 0 then return flush_then_load(name) end
  schedule_load(name)
  return {}
end

-- Write waiting saves now (the caller needs the files); the machine is then
-- loaded back to the saved point, so the game still does not move on.
handlers[OP_FLUSH] = function()
  if #pending_saves == 0 then return {} end
  return flush_then_load(nil)
end

-- Memory requests see the machine as it is between frames; a scheduled load
-- or save would change that under them, so they wait for the next STEP.
local function check_settled(what)
  if pending_load then
    error(what .. " while the load of '" .. pending_load .. "' waits for the next STEP "
          .. "(it applies before that STEP's first frame): step first")
  end
  if what == "WRITE_MEMORY" and #pending_saves > 0 then
    error("WRITE_MEMORY right after SAVE_STATE would change the saved state: write "
          .. "before saving, or step first")
  end
end

-- What a save state of this machine looks like: its 32-byte header (format,
-- system, signature of the registered items) and its uncompressed size, so
-- that Python can check a state file before asking MAME to load it.
handlers[OP_STATE_INFO] = function()
  local buffer = manager.machine:buffer_save()
  return { buffer:sub(1, 32), string.pack("<I8", #buffer) }
end

handlers[OP_READ_MEMORY] = function(body, pos)
  local device, space_name, address, length = string.unpack("<s2s2I8I4", body, pos)
  check_settled("READ_MEMORY")
  if length == 0 then return { "" } end
  if length > MAX_READ_BYTES then
    error("read of " .. length .. " bytes; at most " .. MAX_READ_BYTES .. " per request")
  end
  local space = machine.space(device, space_name)
  machine.check_range(space, device, space_name, address, length)
  return { space:read_range(address, address + length - 1, 8) }
end

handlers[OP_WRITE_MEMORY] = function(body, pos)
  local device, space_name, address, data = string.unpack("<s2s2I8s4", body, pos)
  check_settled("WRITE_MEMORY")
  if #data == 0 then return {} end
  local space = machine.space(device, space_name)
  machine.check_range(space, device, space_name, address, #data)
  for i = 1, #data do space:write_u8(address + i - 1, data:byte(i)) end
  return {}
end

handlers[OP_SHUTDOWN] = function()
  reply(STATUS_OK)
  os.exit(0)
end

-- The next request from the pipe: its length and tag, then its body.
local function wait_request()
  local header = io.stdin:read(12)
  if header == nil or #header < 12 then
    parent.gone("the Python side closed the pipe (it exited or died)")
  end
  local size
  size, request_tag = string.unpack("<I4I8", header)
  local body = size > 0 and io.stdin:read(size) or ""
  if body == nil or #body < size then
    parent.gone("the pipe closed in the middle of a request")
  end
  return body
end

-- Answer requests until one of them starts a job; then return to emulation.
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
      reply_error(result)
    elseif getmetatable(result) then
      job = result
      return
    else
      reply(STATUS_OK, table.unpack(result))
    end
  end
end

-- A job's frame, with every failure turned into an error reply. The first
-- frame after a save or a load checks that MAME did it.
local function run_job()
  pending_load = nil
  if load_check then
    local check = load_check
    load_check = nil
    local now = manager.machine.time:as_double()
    if check.time == nil then
      saved_times[check.name] = now  -- a file from elsewhere: learn its time
    elseif now ~= check.time then
      error("the save state '" .. check.name .. "' did not load (MAME refused or "
            .. "deferred it): the machine ran on from where it was")
    end
  end
  if #pending_saves > 0 and getmetatable(job) ~= FlushJob then complete_saves() end
  return job:frame()
end

local function on_frame()
  -- Some drivers (e.g. TTL netlists) call frame hooks more than once per
  -- screen frame: count frames by the screen's own frame number.
  local number = screen_frame()
  if number == last_frame_number then return end
  if pending_load and load_check and load_check.point
      and math.abs(manager.machine.time:as_double() - load_check.point) < SAME_POINT then
    -- A driver that calls the frame hook twice a frame (pong, pongd) may make the second
    -- call right after loading a state saved between the two: not a new frame yet. Its
    -- time can differ from the saved point's by a rounding of the last digit (pong
    -- after 200 steps), hence a tolerance far below a frame. The frame number cannot
    -- tell it: a state saved at power-on has the number of the frame that follows it.
    return
  end
  last_frame_number = number
  frame_count = frame_count + 1
  if not job then return end
  if frame_count % PARENT_CHECK_FRAMES == 0 and not parent.alive() then
    parent.gone("the Python process that started MAME is gone")
  end
  local ok, done = pcall(run_job)
  if not ok then
    reply_error(done)
    done = true
  end
  if done then
    job = nil
    serve()
  end
end

-- Newer MAME renamed the frame hook; keep the subscription referenced.
local add_frame_notifier = emu.add_machine_frame_notifier or emu.register_frame_done
FRAME_SUBSCRIPTION = add_frame_notifier(function()
  local ok, err = pcall(on_frame)
  if not ok then fatal(err) end
end)

serve()
