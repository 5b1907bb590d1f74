package web

import (
	"container/list"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Password guessing is slowed, never locked out: after a few free failures
// each further attempt must wait a delay that doubles with every failure, up
// to a cap, counted separately per account and per source address. An
// attempt is counted when it starts, under one lock, so parallel guesses
// cannot all be checked before the first failure is recorded. A browser the
// admin signed in with before (its device cookie) is counted on its own, so
// others' guesses do not delay the admin there.

// backoff is the delay policy of one kind of key.
type backoff struct {
	free   int           // failures without any delay
	first  time.Duration // delay after the first failure beyond free; doubles
	max    time.Duration // longest delay
	forget time.Duration // failures are forgotten after this long without one
}

// delay is how long after its latest failure a key with fails failures waits.
func (b backoff) delay(fails int) time.Duration {
	n := fails - b.free
	switch {
	case n < 0:
		return 0
	case n >= 30 || b.first<<n > b.max:
		return b.max
	default:
		return b.first << n
	}
}

// tally is the record of one key.
type tally struct {
	key   string
	fails int
	last  time.Time     // of the latest counted attempt
	lim   *rate.Limiter // of an address: all its password attempts
}

// tallies is a table of keys, bounded by max entries if max > 0: when full,
// the entry quiet for longest goes, so a new key never displaces one with
// more recent failures.
type tallies struct {
	pol backoff
	max int
	m   map[string]*list.Element
	lru list.List // of *tally, most recently counted at the front
}

func newTallies(pol backoff, max int) *tallies {
	return &tallies{pol: pol, max: max, m: map[string]*list.Element{}}
}

// get returns key's tally, nil if it has none or has been quiet long enough to forget.
func (t *tallies) get(key string, now time.Time) *tally {
	el, ok := t.m[key]
	if !ok {
		return nil
	}
	tl := el.Value.(*tally)
	if now.Sub(tl.last) >= t.pol.forget {
		t.lru.Remove(el)
		delete(t.m, key)
		return nil
	}
	return tl
}

// wait is how long key must still wait before its next attempt.
func (t *tallies) wait(key string, now time.Time) time.Duration {
	tl := t.get(key, now)
	if tl == nil {
		return 0
	}
	return max(0, tl.last.Add(t.pol.delay(tl.fails)).Sub(now))
}

// touch returns key's tally, made if needed, as the most recently counted.
func (t *tallies) touch(key string, now time.Time) *tally {
	if tl := t.get(key, now); tl != nil {
		t.lru.MoveToFront(t.m[key])
		return tl
	}
	if t.max > 0 && t.lru.Len() >= t.max {
		old := t.lru.Back()
		t.lru.Remove(old)
		delete(t.m, old.Value.(*tally).key)
	}
	tl := &tally{key: key, last: now}
	t.m[key] = t.lru.PushFront(tl)
	return tl
}

// count records an attempt as a failure until it is known to be otherwise.
func (t *tallies) count(key string, now time.Time) *tally {
	tl := t.touch(key, now)
	tl.fails++
	tl.last = now
	return tl
}

func (t *tallies) uncount(key string) {
	if el, ok := t.m[key]; ok {
		tl := el.Value.(*tally)
		tl.fails = max(0, tl.fails-1)
	}
}

func (t *tallies) clear(key string) {
	if el, ok := t.m[key]; ok {
		el.Value.(*tally).fails = 0
	}
}

const (
	maxNames = 4096 // names that are no admin; dropping one forgets failures on a name none can sign in with
	maxAddrs = 4096 // addresses; a dropped one only forgets its own failures
	// An address may start addrBurst password attempts at once, then one per addrEvery.
	addrBurst = 10
	addrEvery = 6 * time.Second
)

// signinGuard counts password attempts. Admins have tables of their own, one
// entry per admin at most, so no made-up names can crowd them out.
type signinGuard struct {
	mu      sync.Mutex
	admins  *tallies // admin name: attempts from browsers without its device cookie
	names   *tallies // names that are no admin
	devices *tallies // admin id: attempts from browsers with its device cookie
	addrs   *tallies // source addresses, of attempts without a device cookie
}

// newSigninGuard makes the tables. An account (an admin or, so that names
// cannot be probed by their delays, a name that is none) has three free
// failures, then waits 1 s, 2 s, 4 s … up to 15 minutes; an address and a
// device cookie have five. Failures are forgotten after a quiet day.
func newSigninGuard() *signinGuard {
	account := backoff{free: 3, first: time.Second, max: 15 * time.Minute, forget: 24 * time.Hour}
	other := account
	other.free = 5
	return &signinGuard{
		admins:  newTallies(account, 0),
		names:   newTallies(account, maxNames),
		devices: newTallies(other, 0),
		addrs:   newTallies(other, maxAddrs),
	}
}

// attempt is one password attempt: the keys it is counted against.
type attempt struct {
	account *tallies
	key     string
	addr    string // "" for a browser with the admin's device cookie
}

// newAttempt says what an attempt on the account named key, admin id (0: no
// such admin), is counted against.
func (g *signinGuard) newAttempt(id int64, key, addr string, device bool) attempt {
	switch {
	case id != 0 && device:
		return attempt{account: g.devices, key: strconv.FormatInt(id, 10)}
	case id != 0:
		return attempt{account: g.admins, key: key, addr: addr}
	default:
		return attempt{account: g.names, key: key, addr: addr}
	}
}

// begin counts a at now, or says how long to wait first: while its account
// or address is delayed, or its address has started too many attempts lately.
func (g *signinGuard) begin(a attempt, now time.Time) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	wait := a.account.wait(a.key, now)
	if a.addr != "" {
		wait = max(wait, g.addrWait(a.addr, now))
	}
	if wait > 0 {
		return wait, false
	}
	if a.addr != "" {
		tl := g.addrs.count(a.addr, now)
		if tl.lim == nil {
			tl.lim = rate.NewLimiter(rate.Every(addrEvery), addrBurst)
		}
		tl.lim.AllowN(now, 1) // addrWait saw a token
	}
	a.account.count(a.key, now)
	return 0, true
}

// waitFor is how long an attempt on the account named key from addr, without
// a device cookie, must wait: a first look, before the account is even looked
// up, so that refusing a flood costs little. Admins are found by name here;
// only an attempt already counted puts a name in their table.
func (g *signinGuard) waitFor(key, addr string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return max(g.admins.wait(key, now), g.names.wait(key, now), g.addrWait(addr, now))
}

// addrWait is how long addr waits for its delay and for its bucket.
func (g *signinGuard) addrWait(addr string, now time.Time) time.Duration {
	wait := g.addrs.wait(addr, now)
	if tl := g.addrs.get(addr, now); tl != nil && tl.lim != nil {
		if tokens := tl.lim.TokensAt(now); tokens < 1 {
			wait = max(wait, time.Duration((1-tokens)*float64(addrEvery)))
		}
	}
	return wait
}

// succeeded forgets the failures a was counted against.
func (g *signinGuard) succeeded(a attempt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a.account.clear(a.key)
	if a.addr != "" {
		g.addrs.clear(a.addr)
	}
}

// unchecked takes back the count of an attempt whose password was never checked.
func (g *signinGuard) unchecked(a attempt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a.account.uncount(a.key)
	if a.addr != "" {
		g.addrs.uncount(a.addr)
	}
}

// sourceOf is the address a request is counted against: its peer's IP, or
// the /64 an IPv6 peer holds, since one host commonly has a whole /64.
func sourceOf(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
