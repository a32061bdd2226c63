package proxy_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/lambda/proxy"
)

func key(i int) proxy.CacheKey {
	return proxy.NewCacheKey("ep", "cfg-1", "application/json", "", "", []byte(fmt.Sprint(i)))
}

func resp(body string) proxy.CachedResponse {
	return proxy.CachedResponse{ContentType: "application/json", Body: body}
}

func TestCacheKeySeparatesEveryPart(t *testing.T) {
	base := proxy.NewCacheKey("ep", "cfg-1", "text/csv", "application/json", "", []byte("1,2"))
	assert.Equal(t, base, proxy.NewCacheKey("ep", "cfg-1", "text/csv", "application/json", "", []byte("1,2")), "stable")
	for name, k := range map[string]proxy.CacheKey{
		"endpoint":          proxy.NewCacheKey("ep2", "cfg-1", "text/csv", "application/json", "", []byte("1,2")),
		"model":             proxy.NewCacheKey("ep", "cfg-2", "text/csv", "application/json", "", []byte("1,2")),
		"content type":      proxy.NewCacheKey("ep", "cfg-1", "text/plain", "application/json", "", []byte("1,2")),
		"accept":            proxy.NewCacheKey("ep", "cfg-1", "text/csv", "", "", []byte("1,2")),
		"custom attributes": proxy.NewCacheKey("ep", "cfg-1", "text/csv", "application/json", "inferstack-output=probability", []byte("1,2")),
		"body":              proxy.NewCacheKey("ep", "cfg-1", "text/csv", "application/json", "", []byte("1,3")),
		// Without length prefixes these two would concatenate to the same bytes.
		"shifted boundary": proxy.NewCacheKey("ep", "cfg-1", "text/csvapplication/json", "", "", []byte("1,2")),
	} {
		assert.NotEqual(t, base, k, name)
	}
}

func TestCacheGetPutAndTTL(t *testing.T) {
	clock := newFakeClock()
	c := proxy.NewCache(10*time.Second, 10, 1<<20, clock.Now)
	_, ok := c.Get(key(1))
	assert.False(t, ok, "miss on an empty cache")
	c.Put(key(1), resp("one"))
	got, ok := c.Get(key(1))
	require.True(t, ok)
	assert.Equal(t, "one", string(got.Body))
	clock.Advance(9999 * time.Millisecond)
	_, ok = c.Get(key(1))
	assert.True(t, ok, "fresh just before the TTL")
	clock.Advance(time.Millisecond)
	_, ok = c.Get(key(1))
	assert.False(t, ok, "expired at the TTL")
	assert.Zero(t, c.Len(), "an expired entry is dropped when seen")
	assert.Zero(t, c.Bytes())
}

func TestCachePutReplacesAndRestartsTTL(t *testing.T) {
	clock := newFakeClock()
	c := proxy.NewCache(10*time.Second, 10, 1<<20, clock.Now)
	c.Put(key(1), resp("old"))
	clock.Advance(8 * time.Second)
	c.Put(key(1), resp("new!"))
	clock.Advance(8 * time.Second)
	got, ok := c.Get(key(1))
	require.True(t, ok)
	assert.Equal(t, "new!", string(got.Body))
	assert.Equal(t, 1, c.Len())
}

func TestCacheEvictsLeastRecentlyUsedByEntries(t *testing.T) {
	c := proxy.NewCache(time.Minute, 3, 1<<20, nil)
	for i := 1; i <= 3; i++ {
		c.Put(key(i), resp(fmt.Sprint(i)))
	}
	_, ok := c.Get(key(1)) // 1 becomes the most recently used; 2 is now the oldest
	require.True(t, ok)
	c.Put(key(4), resp("4"))
	assert.Equal(t, 3, c.Len())
	for i, want := range map[int]bool{1: true, 2: false, 3: true, 4: true} {
		_, ok := c.Get(key(i))
		assert.Equal(t, want, ok, "key %d", i)
	}
}

func TestCacheEvictsByBytes(t *testing.T) {
	body := strings.Repeat("x", 1000)
	one := resp(body)
	// Room for three entries of this size but not four.
	c := proxy.NewCache(time.Minute, 100, 3*int64(len(body)+len(one.ContentType)+proxy.EntryOverhead)+10, nil)
	for i := 1; i <= 4; i++ {
		c.Put(key(i), resp(body))
	}
	assert.Equal(t, 3, c.Len())
	assert.LessOrEqual(t, c.Bytes(), 3*int64(len(body)+len(one.ContentType)+proxy.EntryOverhead)+10)
	_, ok := c.Get(key(1))
	assert.False(t, ok, "the oldest went to make room")

	// One large response pushes out as many small ones as it needs.
	c.Put(key(9), resp(strings.Repeat("y", 2500)))
	assert.Equal(t, 1, c.Len())
	_, ok = c.Get(key(9))
	assert.True(t, ok)
}

func TestCacheSkipsResponsesLargerThanTheWholeCache(t *testing.T) {
	c := proxy.NewCache(time.Minute, 100, 4096, nil)
	c.Put(key(1), resp("small"))
	c.Put(key(2), resp(strings.Repeat("z", 5000)))
	_, ok := c.Get(key(2))
	assert.False(t, ok)
	_, ok = c.Get(key(1))
	assert.True(t, ok, "the oversize response evicted nothing")
}

func TestCacheConcurrentUse(t *testing.T) {
	clock := newFakeClock()
	c := proxy.NewCache(time.Second, 50, 20_000, clock.Now)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := key((g*31 + i) % 120)
				if r, ok := c.Get(k); ok {
					assert.Equal(t, "application/json", r.ContentType)
				} else {
					c.Put(k, resp(strings.Repeat("v", i%300)))
				}
				if i%500 == 0 {
					clock.Advance(300 * time.Millisecond)
				}
			}
		}(g)
	}
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 50)
	assert.LessOrEqual(t, c.Bytes(), int64(20_000))
}
