-- A ledger document (msgpack, KEYS[1]) as JSON, for the bench's Redis memory figure.
return cjson.encode(cmsgpack.unpack(redis.call('GET', KEYS[1])))
