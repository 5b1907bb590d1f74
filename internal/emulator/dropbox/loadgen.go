package dropbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// LoadAdd sends one members/add_v2 call of members c<from>…c<to-1> straight
// to an emulator at base, for load tests that measure the emulator's ceiling
// without a connector in the way. hc should pool connections as Roster's
// connector does (http.DefaultClient keeps 2 idle ones per host, so parallel
// clients would open a new connection for most calls and measure that).
func LoadAdd(ctx context.Context, hc *http.Client, base, token string, from, to int64) error {
	var b strings.Builder
	b.WriteString(`{"new_members":[`)
	for i := from; i < to; i++ {
		if i > from {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"member_email":"c%d@corp.example","member_given_name":"C","member_surname":"%d","member_external_id":"roster:%d"}`, i, i, i)
	}
	b.WriteString(`]}`)
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/2/team/members/add_v2", bytes.NewReader([]byte(b.String())))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("add_v2: status %d", resp.StatusCode)
	}
	return nil
}

// Provisioned asks a team at base, through team/get_info as any Team API
// client would, how many members it has (num_provisioned_users), for load
// tests that wait for a push from outside the process that makes it.
func Provisioned(ctx context.Context, hc *http.Client, base, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/2/team/get_info", strings.NewReader("null"))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("team/get_info: status %d", resp.StatusCode)
	}
	var info struct {
		N int `json:"num_provisioned_users"`
	}
	err = json.NewDecoder(resp.Body).Decode(&info)
	return info.N, err
}
