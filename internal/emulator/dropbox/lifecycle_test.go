package dropbox

import (
	"slices"
	"testing"
)

// State behaviour the seed documents ask to observe: silent provisioning with
// SSO and claimed domains (F8), personal-account capture, licences.

func TestCapturePersonalAccountsOnClaimedDomain(t *testing.T) {
	e := newEnv(t)
	must(t, e.team.Configure(TeamSettings{Domains: []string{"ACME.example"}, Personal: map[string]Personal{
		"pat@acme.example":  {Plan: "pro", AccountID: "dbid:AApersonalpersonalpersonalpersonal0", Files: []string{"taxes.pdf"}},
		"out@other.example": {Plan: "basic", Files: []string{"o.txt"}},
	}}))
	e.expectResp(t, e.post("members/add_v2", `{"new_members":[{"member_email":"pat@acme.example","send_welcome_email":false},
		{"member_email":"out@other.example","send_welcome_email":false}]}`), 200, `{".tag":"complete","complete":[
		{".tag":"success","profile":{"team_member_id":"*","account_id":"dbid:AApersonalpersonalpersonalpersonal0","email":"pat@acme.example",
		"email_verified":true,"secondary_emails":[],"status":{".tag":"invited"},"name":"*","membership_type":"*","invited_on":"*","groups":[],
		"member_folder_id":"*","root_folder_id":"*"}},
		{".tag":"success","profile":{"team_member_id":"*","account_id":"~^dbid:AA","email":"out@other.example","email_verified":false,
		"secondary_emails":[],"status":{".tag":"invited"},"name":"*","membership_type":"*","invited_on":"*","groups":[],
		"member_folder_id":"*","root_folder_id":"*"}}]}`)
	sn := e.team.Snapshot()
	pat, out := sn.MemberByEmail("pat@acme.example"), sn.MemberByEmail("out@other.example")
	if !pat.Captured || !slices.Equal(pat.Files, []string{"taxes.pdf"}) || out.Captured || len(out.Files) != 0 {
		t.Errorf("pat %+v, out %+v", pat, out)
	}
	if p, _ := sn.PersonalAccount("pat@acme.example"); !p.Captured {
		t.Error("personal account not marked captured")
	}
	if len(sn.Welcome) != 0 {
		t.Errorf("silent provisioning sent %v", sn.Welcome)
	}
}

func TestSSOSignInActivatesSilentlyProvisioned(t *testing.T) {
	e := newEnv(t)
	e.mustPost("members/add_v2", `{"new_members":[{"member_email":"s@acme.example","send_welcome_email":false}]}`)
	if err := e.team.SSOSignIn("s@acme.example"); err == nil {
		t.Error("signed in through SSO while SSO is disabled")
	}
	required := "required"
	must(t, e.team.Configure(TeamSettings{SSO: &required}))
	if err := e.team.SSOSignIn("s@acme.example"); err == nil {
		t.Error("signed in on an unclaimed domain")
	}
	must(t, e.team.Configure(TeamSettings{Domains: []string{"acme.example"}}))
	must(t, e.team.SSOSignIn("s@acme.example"))
	if m := e.member("s@acme.example"); m.Status != StatusActive || !m.EmailVerified || m.JoinedOn != t0 || !m.InvitedOn.IsZero() {
		t.Errorf("%+v", m)
	}
	if err := e.team.SSOSignIn("s@acme.example"); err == nil {
		t.Error("an active member signed in as if invited")
	}
	bad := "sometimes"
	if err := e.team.Configure(TeamSettings{SSO: &bad}); err == nil {
		t.Error("accepted an unknown SSO mode")
	}
}

func TestLicenceAccounting(t *testing.T) {
	e := newStdEnv(t)
	info := func() (prov, used float64) {
		v := e.mustPost("get_info", "")
		return v["num_provisioned_users"].(float64), v["num_used_licenses"].(float64)
	}
	steps := []struct {
		name       string
		route, req string
		prov, used float64
	}{
		{"start: admin ann uma active, bob invited, cat suspended", "", "", 4, 4},
		{"suspend keeps the licence", "members/suspend", `{"user":` + sel("ann@acme.example") + `}`, 3, 4},
		{"remove frees it", "members/remove", `{"user":` + sel("ann@acme.example") + `}`, 3, 3},
		{"recover takes it back", "members/recover", `{"user":` + sel("ann@acme.example") + `}`, 3, 4},
		{"add invites", "members/add_v2", `{"new_members":[{"member_email":"new@acme.example"}]}`, 4, 4},
	}
	for _, s := range steps {
		if s.route != "" {
			e.mustPost(s.route, s.req)
		}
		if p, u := info(); p != s.prov || u != s.used {
			t.Errorf("%s: provisioned %v used %v, want %v %v", s.name, p, u, s.prov, s.used)
		}
	}
	// recover restores the status held before removal: ann was suspended.
	if m := e.member("ann@acme.example"); m.Status != StatusSuspended {
		t.Errorf("recovered as %s", m.Status)
	}
}

func TestSeedValidation(t *testing.T) {
	e := newStdEnv(t)
	for _, sm := range []SeedMember{
		{Email: "not an email"}, {Email: "ann@acme.example"}, {Email: "x@acme.example", Role: "Emperor"},
		{Email: "y@acme.example", Status: "frozen"}, {Email: "z@acme.example", ExternalID: "ext-ann"},
	} {
		if _, err := e.team.Seed([]SeedMember{sm}); err == nil {
			t.Errorf("seeded %+v", sm)
		}
	}
	if _, err := e.team.SeedGroup(SeedGroup{Name: "G", Members: []string{"dan@acme.example"}}); err == nil {
		t.Error("a removed member seeded into a group")
	}
	if err := e.team.AddFiles("dan@acme.example", "x"); err == nil {
		t.Error("files given to a removed member")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
