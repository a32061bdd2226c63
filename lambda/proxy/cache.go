package proxy

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
	"time"
)

// CacheKey identifies one cacheable request.
type CacheKey [sha256.Size]byte

// NewCacheKey hashes what decides a response: the endpoint, the model that answers (the
// endpoint configuration deployed and the one DescribeEndpoint says serves), the content type,
// the accepted type, the custom attributes (X-Amzn-SageMaker-Custom-Attributes, which a model
// may read: the inference server selects its outputs by one) and the body. Each part is
// length-prefixed so that no two different requests hash the same input ("a","bc" vs "ab","c").
func NewCacheKey(endpoint, model, contentType, accept, customAttributes string, body []byte) CacheKey {
	h := hasherPool.Get().(hash.Hash)
	h.Reset()
	var n [8]byte
	for _, s := range [...]string{endpoint, model, contentType, accept, customAttributes} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	binary.BigEndian.PutUint64(n[:], uint64(len(body)))
	h.Write(n[:])
	h.Write(body)
	var k CacheKey
	h.Sum(k[:0])
	hasherPool.Put(h)
	return k
}

var hasherPool = sync.Pool{New: func() any { return sha256.New() }}

// CachedResponse is a successful endpoint response in the form the response event carries it:
// the body as a string, base64-encoded when it is not UTF-8. Keeping that form means a hit
// allocates no copy of the body, and an entry's size is what it really holds.
type CachedResponse struct {
	ContentType string
	Body        string
	// Base64 says Body is base64, to be sent with isBase64Encoded.
	Base64 bool
	// CustomAttributes is the endpoint's X-Amzn-SageMaker-Custom-Attributes answer, replayed
	// with the body on a hit.
	CustomAttributes string
}

// EntryOverhead is what an entry costs beyond its body and content type: the cacheEntry (key,
// strings, size, expiry), its list element and its map slot with the key again.
// TestCacheAccountsWhatEntriesCost measures it with runtime.MemStats (about 250 bytes on amd64
// with Go 1.26, the map's share varying with its fill), so that many tiny responses cannot
// exceed the byte bound unnoticed.
const EntryOverhead = 320

func (r CachedResponse) size() int64 {
	return int64(len(r.Body) + len(r.ContentType) + len(r.CustomAttributes) + EntryOverhead)
}

type cacheEntry struct {
	key     CacheKey
	resp    CachedResponse
	size    int64
	expires time.Time
}

// Cache is an LRU cache with a TTL, bounded by entries and by bytes. It is safe for concurrent
// use. Responses are never mutated after Put, so Get hands out the stored body without copying.
type Cache struct {
	ttl        time.Duration
	maxEntries int
	maxBytes   int64
	now        func() time.Time

	mu    sync.Mutex
	ll    *list.List // front = most recently used
	items map[CacheKey]*list.Element
	bytes int64
}

// NewCache returns an empty cache. now is the clock (time.Now in production, a fake in tests).
func NewCache(ttl time.Duration, maxEntries int, maxBytes int64, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{
		ttl: ttl, maxEntries: maxEntries, maxBytes: maxBytes, now: now,
		ll: list.New(), items: make(map[CacheKey]*list.Element),
	}
}

// Get returns the response for k if it is cached and fresh; an expired entry is dropped.
func (c *Cache) Get(k CacheKey) (CachedResponse, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return CachedResponse{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.remove(el)
		return CachedResponse{}, false
	}
	c.ll.MoveToFront(el)
	return e.resp, true
}

// Put stores r under k, evicting the least recently used entries until both bounds hold. A
// response larger than the whole byte bound is not stored: it would evict everything and then
// not fit.
func (c *Cache) Put(k CacheKey, r CachedResponse) {
	size := r.size()
	if size > c.maxBytes {
		return
	}
	expires := c.now().Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.remove(el)
	}
	el := c.ll.PushFront(&cacheEntry{key: k, resp: r, size: size, expires: expires})
	c.items[k] = el
	c.bytes += size
	for c.ll.Len() > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.ll.Back())
	}
}

// Purge drops every entry: the model behind them is no longer the one serving.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
	c.bytes = 0
}

// Len returns the number of entries, expired ones included until they are looked up or evicted.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// Bytes returns the accounted size of all entries.
func (c *Cache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func (c *Cache) remove(el *list.Element) {
	e := c.ll.Remove(el).(*cacheEntry)
	delete(c.items, e.key)
	c.bytes -= e.size
}
