-- An item a stage set aside, counted once per (stage, item). KEYS: the hash of set-aside counts per stage, the
-- item's key (names.SET_ASIDE, names.set_aside_item). ARGV: stage, seconds to remember the item.
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  return 1
end
return 0
