-- cmp(a, b): -1, 0 or 1 comparing two strings byte by byte. Lua compares strings with strcoll (Redis sets the
-- locale); revisions are compared as Python compares them, so both twins order them the same under any locale.
local function cmp(a, b)
  if a == b then return 0 end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then if x < y then return -1 else return 1 end end
  end
  if #a < #b then return -1 else return 1 end
end
