-- Noticing that the Python process that started this MAME has gone.
--
-- Between requests the bridge blocks on a pipe from its parent and sees the
-- end of that pipe at once. During a long STEP it does not read the pipe, so it
-- checks here every few frames whether the parent still lives: the parent's
-- /proc entry must exist with the start time the parent gave us (a recycled
-- pid has another). When the parent is gone, MAME stops the whole process
-- group it was started in (a wrapper script and whatever it started), then
-- exits.
--
-- Environment: GYM_MAME_PARENT_PID, GYM_MAME_PARENT_START (field 22 of the
-- parent's /proc/<pid>/stat), GYM_MAME_OWN_GROUP ("1": the group is ours to stop).

local parent = {}

local pid = tonumber(os.getenv("GYM_MAME_PARENT_PID") or "")
local expected_start = os.getenv("GYM_MAME_PARENT_START")
local own_group = os.getenv("GYM_MAME_OWN_GROUP") == "1"

-- Field 22 (start time) of /proc/<pid>/stat, or nil if there is no such process.
local function start_time(p)
  local f = io.open("/proc/" .. p .. "/stat", "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  -- The command name (field 2) may hold spaces and parentheses: count after the last ')'.
  local rest = text:match(".*%)%s+(.*)")
  if not rest then return nil end
  local i = 2
  for field in rest:gmatch("%S+") do
    i = i + 1
    if i == 22 then return field end
  end
  return nil
end

function parent.alive()
  if not pid then return true end
  return start_time(pid) == expected_start
end

-- End MAME (and its process group, when it is ours) because the parent is gone.
function parent.gone(why)
  io.stderr:write("gym_mame bridge: " .. why .. "; MAME exits\n")
  io.stderr:flush()
  if own_group then
    os.execute("kill -KILL 0 2>/dev/null")  -- the group: MAME, a wrapper, its children
  end
  os.exit(0)
end

return parent
