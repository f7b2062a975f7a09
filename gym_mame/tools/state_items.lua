-- Lists a machine's save-state items in save-state order, one per line:
-- "<offset> <bytes> <device tag> <item name>", to the file $GYM_MAME_ITEMS_OUT,
-- then ends MAME. Used to name the parts of two state files that differ.
local out_path = os.getenv("GYM_MAME_ITEMS_OUT")
SUBSCRIPTION = emu.register_frame_done(function()
  local names = {}
  for tag, dev in pairs(manager.machine.devices) do
    for name, index in pairs(dev.items or {}) do names[index] = tag .. " " .. name end
  end
  local out = io.open(out_path, "w")
  local offset = 0
  for i = 0, 1000000 do
    local ok, item = pcall(emu.item, i)
    if not ok or not item then break end
    local size = item.size * item.count
    out:write(string.format("%d %d %s\n", offset, size, names[i] or ("item " .. i)))
    offset = offset + size
  end
  out:close()
  os.exit(0)
end)
