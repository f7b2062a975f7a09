-- What the bridge knows about the running machine: a description for the
-- Python side, and look-ups that turn names sent by Python into MAME objects
-- once (at configure time) so the per-frame path touches no tables by name.

local machine = {}

local function mame()
  -- manager.machine since MAME 0.227; older builds had manager:machine().
  return manager.machine
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- What MAME says of each save-state item looked up so far (by CONFIGURE), for
-- DESCRIBE: its element size in bytes bounds the values read from it. (A device
-- state entry tells nothing of the kind in MAME 0.251: only name, value,
-- is_visible and is_divider.)
local items_seen, items_described = {}, {}

function machine.describe()
  local m = mame()
  local screens = {}
  for _, tag in ipairs(sorted_keys(m.screens)) do
    local s = m.screens[tag]
    screens[#screens + 1] = { tag = tag, width = s.width, height = s.height,
                              refresh = s.refresh }
  end
  local ports = {}
  for _, tag in ipairs(sorted_keys(m.ioport.ports)) do
    local fields = {}
    local port = m.ioport.ports[tag]
    for _, name in ipairs(sorted_keys(port.fields)) do
      local f = port.fields[name]
      fields[#fields + 1] = { name = name, analog = f.is_analog, type = f.type,
                              min = f.minvalue, max = f.maxvalue,
                              default = f.defvalue, player = f.player }
    end
    ports[#ports + 1] = { tag = tag, fields = fields }
  end
  local devices = {}
  for _, tag in ipairs(sorted_keys(m.devices)) do
    local d = m.devices[tag]
    local spaces, state = {}, {}
    for _, name in ipairs(sorted_keys(d.spaces)) do
      local s = d.spaces[name]
      spaces[#spaces + 1] = { name = name, endianness = s.endianness,
                              data_width = s.data_width,
                              address_mask = s.address_mask }
    end
    if d.state then state = sorted_keys(d.state) end
    if #spaces > 0 or #state > 0 then
      devices[#devices + 1] = { tag = tag, spaces = spaces, state = state }
    end
  end
  return {
    mame_version = emu.app_version(),
    system = emu.romname(),
    lua_version = _VERSION,
    screens = screens,
    ports = ports,
    devices = devices,
    save_items = items_described,
  }
end

function machine.field(port_tag, field_name)
  local port = mame().ioport.ports[port_tag]
  if not port then error("unknown input port '" .. port_tag .. "'") end
  local field = port.fields[field_name]
  if not field then
    error("input port '" .. port_tag .. "' has no field '" .. field_name .. "'")
  end
  return field
end

local function device(tag)
  local d = mame().devices[tag]
  if not d then error("unknown device '" .. tag .. "'") end
  return d
end

-- A memory region (a cartridge's ROM) read and written like an address space: the
-- pseudo-space "region" of a region tag. Integrations patch ROM this way.
local function region_space(tag)
  local r = mame().memory.regions[tag]
  if not r then error("unknown memory region '" .. tag .. "'") end
  return {
    address_mask = r.size - 1,  -- the last offset, which is what check_range needs
    read_u8 = function(_, offset) return r:read_u8(offset) end,
    write_u8 = function(_, offset, value) r:write_u8(offset, value) end,
    read_range = function(_, first, last)
      local bytes = {}
      for offset = first, last do bytes[#bytes + 1] = string.char(r:read_u8(offset)) end
      return table.concat(bytes)
    end,
  }
end

function machine.space(device_tag, space_name)
  if space_name == "region" then return region_space(device_tag) end
  local s = device(device_tag).spaces[space_name]
  if not s then
    error("device '" .. device_tag .. "' has no address space '" .. space_name .. "'")
  end
  return s
end

-- Check that `length` bytes from `address` lie inside `space` (MAME's read_range
-- fails with a bare "Invalid offset" otherwise, and read_u8 wraps silently).
function machine.check_range(space, device_tag, space_name, address, length)
  local last = address + length - 1
  local mask = space.address_mask
  if address < 0 or last < address or math.ult(mask, last) then
    error(string.format("bytes 0x%x to 0x%x are outside %s %s (0x0 to 0x%x)",
                        address, last, device_tag, space_name, mask))
  end
end

function machine.state_entry(device_tag, name)
  local d = device(device_tag)
  local entry = d.state and d.state[name]
  if not entry then
    error("device '" .. device_tag .. "' has no state entry '" .. name .. "'")
  end
  return entry
end

local function note_item(device_tag, name, item)
  local key = device_tag .. "\0" .. name
  if items_seen[key] then return end
  items_seen[key] = true
  items_described[#items_described + 1] = { device = device_tag, name = name,
                                            size = item.size, count = item.count }
end

-- A save-state item (e.g. a netlist counter that is no state entry), wrapped
-- so that it reads like a state entry: `.value`.
function machine.save_item(device_tag, name)
  local d = device(device_tag)
  local handle = d.items and d.items[name]
  if not handle then
    error("device '" .. device_tag .. "' has no save-state item '" .. name .. "'")
  end
  local item = emu.item(handle)
  note_item(device_tag, name, item)
  return setmetatable({}, { __index = function() return item:read(0) end })
end

-- Save states live in MAME's state folder; a name is a plain word, never a
-- path, so no request can read or write a file outside that folder.
function machine.state_path(name)
  if not name:match("^[%w_%-]+$") or #name > 64 then
    error("a save state name is 1-64 letters, digits, _ or -, not " .. string.format("%q", name))
  end
  local folder = mame().options.entries["state_directory"]:value()
  return folder .. "/" .. emu.romname() .. "/" .. name .. ".sta"
end

-- Whether `path` holds a save state of this machine (format header and
-- system name; Python checks the rest of a file it did not make here).
function machine.state_file_ok(path)
  local f = io.open(path, "rb")
  if not f then return false end
  local header = f:read(32) or ""
  f:close()
  local system = header:sub(11, 28):gsub("%z+$", "")
  return #header == 32 and header:sub(1, 8) == "MAMESAVE" and system == emu.romname()
end

function machine.screen(tag)
  local screens = mame().screens
  if tag == "" then
    local first = sorted_keys(screens)[1]
    if not first then error("this machine has no screen") end
    return screens[first]
  end
  local s = screens[tag]
  if not s then error("unknown screen '" .. tag .. "'") end
  return s
end

return machine
