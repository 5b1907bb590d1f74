package connector_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/connector"
)

// The registry answers for the kinds it holds and refuses the others; roles
// parse and rank in the order the kind registered them.
func TestRegistry(t *testing.T) {
	r := connector.NewRegistry(connector.Spec{Kind: "k", Roles: []string{"member", "admin"},
		Capabilities:  []connector.Capability{connector.CapSuspend},
		NormalizeName: strings.ToUpper})
	if err := r.CheckKind("k"); err != nil {
		t.Errorf("CheckKind(k) = %v", err)
	}
	if err := r.CheckKind("box"); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("CheckKind(box) = %v, want not supported", err)
	}
	if _, err := r.Open(context.Background(), "box", connector.OpenOptions{}); err == nil {
		t.Error("Open of an unknown kind succeeded")
	}
	if !r.Has("k", connector.CapSuspend) || r.Has("k", connector.CapRecover) || r.Has("box", connector.CapSuspend) {
		t.Error("Has answers wrongly")
	}
	if got := r.NormalizeName("k", "ann"); got != "ANN" {
		t.Errorf("NormalizeName = %q", got)
	}
	if got := r.NormalizeName("box", "ann"); got != "ann" {
		t.Errorf("NormalizeName of an unknown kind = %q, want it as is", got)
	}
	for _, c := range []struct{ in, want, err string }{{"", "member", ""}, {"admin", "admin", ""}, {"root", "", "not one of member, admin"}} {
		got, err := r.ParseRole("k", c.in)
		if got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ParseRole(%q) = %q, %v", c.in, got, err)
		}
	}
	rank := r.RoleRank("k")
	if rank("admin") <= rank("member") || rank("root") != -1 {
		t.Error("RoleRank does not follow the registered order")
	}
}

// Settings that need a capability the kind lacks are refused, naming it;
// the kind's own rules run on the settings' JSON.
func TestRegistryCheckSettings(t *testing.T) {
	r := connector.NewRegistry(connector.Spec{Kind: "k", Title: "K", Capabilities: []connector.Capability{connector.CapSuspend},
		ValidateSettings: func(b []byte) error {
			if strings.Contains(string(b), "bad") {
				return errors.New("k refuses bad")
			}
			return nil
		}})
	for _, c := range []struct {
		needs    []connector.Capability
		settings string
		want     string
	}{
		{[]connector.Capability{connector.CapSuspend}, `{}`, ""},
		{[]connector.Capability{connector.CapSuspend, connector.CapTransfer}, `{}`, "K cannot transfer a leaver's files"},
		{nil, `{"x":"bad"}`, "k refuses bad"},
	} {
		err := r.CheckSettings("k", c.needs, []byte(c.settings))
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckSettings(%v, %s) = %v, want %q", c.needs, c.settings, err, c.want)
		}
	}
	if err := r.CheckSettings("box", nil, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("CheckSettings of an unknown kind = %v", err)
	}
	// The store's check: the kind's own rules only, and no refusal of a kind.
	if err := r.CheckRules("k", []byte(`{"x":"bad"}`)); err == nil || !strings.Contains(err.Error(), "k refuses bad") {
		t.Errorf("CheckRules(k, bad) = %v", err)
	}
	for _, kind := range []string{"k", "box"} {
		if err := r.CheckRules(kind, []byte(`{}`)); err != nil {
			t.Errorf("CheckRules(%s, {}) = %v", kind, err)
		}
	}
}
