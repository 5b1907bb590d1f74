package dropbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Benchmarks over real HTTP on loopback: the emulator's own ceiling, which
// Roster's benchmarks are compared against. Run them with
//
//	go test -run '^$' -bench . -benchtime 3s ./internal/emulator/dropbox/
//
// (README.md has the figures and shorter commands.)

// benchClient keeps enough idle connections for parallel clients, as a real
// connector's pooled client would.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
}

// benchPost calls a route and returns the answer, or an error for a
// transport failure or a non-200; workers report it with b.Error, as only the
// benchmark's own goroutine may stop it.
func benchPost(c *http.Client, url, route string, body []byte) ([]byte, error) {
	req, _ := http.NewRequest("POST", url+"/2/team/"+route, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil && res.StatusCode != 200 {
		err = fmt.Errorf("%s: %d %.200s", route, res.StatusCode, out)
	}
	return out, err
}

func mustPost(b *testing.B, c *http.Client, url, route string, body []byte) []byte {
	out, err := benchPost(c, url, route, body)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// addBody is an add_v2 call adding batch new members numbered from first.
func addBody(first, batch int64) []byte {
	var sb strings.Builder
	sb.WriteString(`{"new_members":[`)
	for i := range batch {
		if i > 0 {
			sb.WriteByte(',')
		}
		n := first + i
		fmt.Fprintf(&sb, `{"member_email":"user%d@acme.example","member_given_name":"User","member_surname":"N%d","member_external_id":"emp-%d","send_welcome_email":false}`, n, n, n)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func benchEnv(b *testing.B) (*Server, string) {
	return StartTest(b, Options{Teams: []TeamConfig{{Name: "acme", Token: testToken}}})
}

// BenchmarkAddV2: members added per second through add_v2 in batches of 20,
// from 1, 4, 16 and 64 parallel clients on one team. One op is one call of
// 20 new members; each sub-benchmark starts from a fresh team.
func BenchmarkAddV2(b *testing.B) {
	for _, clients := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			_, url := benchEnv(b)
			c := benchClient()
			var calls, next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for calls.Add(1) <= int64(b.N) {
						out, err := benchPost(c, url, "members/add_v2", addBody(next.Add(20)-20, 20))
						if err != nil || !bytes.Contains(out, []byte(`"success"`)) {
							b.Errorf("not added: %v %.200s", err, out)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*20)/b.Elapsed().Seconds(), "members/s")
		})
	}
}

// BenchmarkAdd100kMembers pushes 100,000 members through add_v2 (batches of
// 20, 16 parallel clients) per op, into a fresh team each time.
func BenchmarkAdd100kMembers(b *testing.B) {
	const total, batch, workers = 100_000, 20, 16
	c := benchClient()
	for range b.N {
		b.StopTimer()
		srv, url := benchEnv(b)
		b.StartTimer()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for first := next.Add(batch) - batch; first < total; first = next.Add(batch) - batch {
					if _, err := benchPost(c, url, "members/add_v2", addBody(first, batch)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		if n := len(srv.Team("acme").Snapshot().Members); n != total+1 {
			b.Fatalf("%d members", n)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "members/s")
}

// BenchmarkListV2Paging100k: one op lists all 100,000 members (plus the
// admin) with list_v2 and list/continue_v2 at the maximum page size of 1000.
func BenchmarkListV2Paging100k(b *testing.B) {
	const total = 100_000
	srv, url := benchEnv(b)
	seeds := make([]SeedMember, total)
	for i := range seeds {
		seeds[i] = SeedMember{Email: fmt.Sprintf("user%d@acme.example", i), GivenName: "User", Surname: fmt.Sprint(i), ExternalID: fmt.Sprint("emp-", i), Status: "active"}
	}
	if _, err := srv.Team("acme").Seed(seeds); err != nil {
		b.Fatal(err)
	}
	c := benchClient()
	b.ResetTimer()
	pages := 0
	for range b.N {
		listed := 0
		out := mustPost(b, c, url, "members/list_v2", []byte(`{"limit":1000}`))
		for {
			pages++
			// Read the page cheaply, so the figure is the emulator's, not a JSON decoder's.
			listed += bytes.Count(out, []byte(`{"profile":`))
			cursor, more := pageTail(b, out)
			if !more {
				break
			}
			out = mustPost(b, c, url, "members/list/continue_v2", []byte(`{"cursor":"`+cursor+`"}`))
		}
		if listed != total+1 {
			b.Fatalf("listed %d", listed)
		}
	}
	b.ReportMetric(float64(b.N*(total+1))/b.Elapsed().Seconds(), "members/s")
	b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
}

// pageTail reads cursor and has_more, which end every list answer.
func pageTail(b *testing.B, page []byte) (string, bool) {
	i := bytes.LastIndex(page, []byte(`"cursor":`))
	var tail struct {
		Cursor  string `json:"cursor"`
		HasMore bool   `json:"has_more"`
	}
	if i < 0 || json.Unmarshal(append([]byte{'{'}, page[i:]...), &tail) != nil {
		b.Fatalf("no cursor in %.200s", page)
	}
	return tail.Cursor, tail.HasMore
}
