-- Just enough JSON encoding for the one-time machine description. Requests
-- and per-step replies are binary; nothing here ever decodes or runs input.

local json = {}

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

function json.encode(value)
  local kind = type(value)
  if kind == "nil" then
    return "null"
  elseif kind == "boolean" then
    return value and "true" or "false"
  elseif kind == "number" then
    if math.type(value) == "integer" then return string.format("%d", value) end
    if value ~= value or value == math.huge or value == -math.huge then return "null" end
    return string.format("%.17g", value)
  elseif kind == "string" then
    return encode_string(value)
  elseif kind == "table" then
    local out = {}
    if next(value) ~= nil and is_array(value) then
      for i = 1, #value do out[i] = json.encode(value[i]) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    if next(value) == nil then return "[]" end
    local keys = {}
    for k in pairs(value) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for i, k in ipairs(keys) do out[i] = encode_string(k) .. ":" .. json.encode(value[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  error("cannot encode a " .. kind .. " as JSON")
end

return json
