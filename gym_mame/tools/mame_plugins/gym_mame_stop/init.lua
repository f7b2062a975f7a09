-- gym_mame_stop: a MAME plugin that ends the emulation the normal way
-- (manager.machine:exit()) once a file named "stop" appears in MAME's home
-- path (gym_mame gives every MAME a private one). A normal exit is what makes
-- MAME finish an input recording (-record); the bridge's own shutdown ends the
-- process at once and would leave the recording empty.
local exports = {
  name = "gym_mame_stop",
  version = "1",
  description = "end MAME normally on request",
  license = "MIT",
  author = { name = "gym_mame" },
}

function exports.startplugin()
  local home = manager.options.entries["homepath"]:value()
  local stop_file = home .. "/stop"
  local asked = false
  GYM_MAME_STOP_SUBSCRIPTION = emu.register_frame_done(function()
    if asked then return end
    local f = io.open(stop_file, "r")
    if f then
      f:close()
      asked = true
      manager.machine:exit()
    end
  end)
end

return exports
