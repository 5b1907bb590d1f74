package dropbox

import (
	"errors"
	"strings"
	"testing"

	sdk "github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/async"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/team"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/team_common"
)

// outcome names how the SDK saw a call: "ok", "400: <text>", "401 <tag>"
// (with the required scope of missing_scope), or the route error tag of a 409.
func outcome(err error) string {
	var bad auth.BadRequest
	var ae auth.AuthAPIError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &bad):
		return "400: " + bad.ErrorSummary
	case errors.As(err, &ae) && ae.AuthError.MissingScope != nil:
		return "401 missing_scope " + ae.AuthError.MissingScope.RequiredScope
	case errors.As(err, &ae):
		return "401 " + ae.AuthError.Tag
	}
	if tag := apiTag(err); tag != "" {
		return tag
	}
	return err.Error()
}

// sdkWorld is the standard team plus the "Everyone" group, a user-managed
// group Eng holding ann, and a team "other" with a group of its own.
type sdkWorld struct {
	*env
	eng, everyone, theirs *team.GroupSelector
}

func newSDKWorld(t *testing.T) sdkWorld {
	e := newStdEnv(t, func(o *Options) {
		o.Teams[0].EveryoneGroup = true
		o.Teams = append(o.Teams, TeamConfig{Name: "other", Token: "tok2"})
	})
	theirs, err := e.srv.Team("other").SeedGroup(SeedGroup{Name: "Theirs"})
	must(t, err)
	byID := func(id string) *team.GroupSelector {
		return &team.GroupSelector{Tagged: sdk.Tagged{Tag: "group_id"}, GroupId: id}
	}
	return sdkWorld{env: e, eng: byID(seedGroup(e, SeedGroup{Name: "Eng", Members: []string{"ann@acme.example"}})),
		everyone: byID(e.team.Snapshot().Groups[0].ID), theirs: byID(theirs)}
}

// Error cases (and the odd success) the SDK tests above leave out, one per
// route at least, so every route is held to the reference through the SDK too.
func TestSDKEveryRouteErrors(t *testing.T) {
	member := &team.GroupAccessType{Tagged: sdk.Tagged{Tag: "member"}}
	owner := &team.GroupAccessType{Tagged: sdk.Tagged{Tag: "owner"}}
	for _, tc := range []struct {
		name string
		call func(w sdkWorld, c team.Client) error
		want string // outcome(), or its prefix for a 400
	}{
		{"members/list_v2: a hand-built MembersListArg sends limit 0 (reference §13)", func(_ sdkWorld, c team.Client) error {
			_, err := c.MembersListV2(&team.MembersListArg{})
			return err
		}, `400: Error in call to API function "team/members/list_v2": request body: limit: 0 is not within range [1, 1000]`},
		{"members/get_info_v2: email pattern", func(_ sdkWorld, c team.Client) error {
			_, err := c.MembersGetInfoV2(team.NewMembersGetInfoV2Arg([]*team.UserSelectorArg{byEmail("x")}))
			return err
		}, `400: Error in call to API function "team/members/get_info_v2": request body: members[0]: email: 'x' did not match pattern`},
		{"members/get_available_team_member_roles: missing scope", func(w sdkWorld, _ team.Client) error {
			must(w.t, w.srv.AddToken("acme", "groups-only", []string{"groups.read"}))
			_, err := w.sdk("groups-only").MembersGetAvailableTeamMemberRoles()
			return err
		}, "401 missing_scope members.read"},
		{"members/add/job_status/get_v2: internal_error, after the change is made", func(w sdkWorld, c team.Client) error {
			w.srv.SetFaults(Faults{JobFail: 1})
			arg := team.NewMembersAddV2Arg([]*team.MemberAddV2Arg{team.NewMemberAddV2Arg("job@acme.example")})
			arg.ForceAsync = true
			launch, err := c.MembersAddV2(arg)
			if err != nil {
				return err
			}
			_, err = c.MembersAddJobStatusGetV2(async.NewPollArg(launch.AsyncJobId))
			if _, ok := w.team.Member("job@acme.example"); !ok {
				w.t.Error("the failed job's member is not on the team")
			}
			return err
		}, "internal_error"},
		{"members/recover: user_not_found", func(_ sdkWorld, c team.Client) error {
			return c.MembersRecover(team.NewMembersRecoverArg(byID("dbmid:nope")))
		}, "user_not_found"},
		// A 2026 tag the SDK's 2022 spec lacks: it still decodes, as the raw
		// tag string, which is what the reference says to compare (§9.2).
		{"members/remove: member_is_transfer_destination (2026 spec)", func(w sdkWorld, c team.Client) error {
			w.srv.SetFaults(Faults{JobPolls: 2})
			rm := team.NewMembersRemoveArg(byEmail("ann@acme.example"))
			rm.TransferDestId, rm.TransferAdminId = byEmail("uma@acme.example"), byEmail("admin@acme.example")
			if _, err := c.MembersRemove(rm); err != nil {
				return err
			}
			_, err := c.MembersRemove(team.NewMembersRemoveArg(byEmail("uma@acme.example")))
			return err
		}, "member_is_transfer_destination"},
		{"groups/create: system_managed_group_disallowed", func(_ sdkWorld, c team.Client) error {
			arg := team.NewGroupCreateArg("Sys")
			arg.GroupManagementType = &team_common.GroupManagementType{Tagged: sdk.Tagged{Tag: "system_managed"}}
			_, err := c.GroupsCreate(arg)
			return err
		}, "system_managed_group_disallowed"},
		{"groups/get_info: group_not_on_team", func(w sdkWorld, c team.Client) error {
			_, err := c.GroupsGetInfo(&team.GroupsSelector{Tagged: sdk.Tagged{Tag: "group_ids"}, GroupIds: []string{w.theirs.GroupId}})
			return err
		}, "group_not_on_team"},
		{"groups/list: a hand-built GroupsListArg sends limit 0", func(_ sdkWorld, c team.Client) error {
			_, err := c.GroupsList(&team.GroupsListArg{})
			return err
		}, `400: Error in call to API function "team/groups/list": request body: limit: 0 is not within range [1, 1000]`},
		{"groups/list/continue: invalid_cursor", func(_ sdkWorld, c team.Client) error {
			_, err := c.GroupsListContinue(team.NewGroupsListContinueArg("nope"))
			return err
		}, "invalid_cursor"},
		{"groups/update: group_not_found", func(_ sdkWorld, c team.Client) error {
			arg := team.NewGroupUpdateArgs(&team.GroupSelector{Tagged: sdk.Tagged{Tag: "group_external_id"}, GroupExternalId: "nope"})
			arg.NewGroupName = "X"
			_, err := c.GroupsUpdate(arg)
			return err
		}, "group_not_found"},
		{"groups/update: system_managed_group_disallowed", func(w sdkWorld, c team.Client) error {
			arg := team.NewGroupUpdateArgs(w.everyone)
			arg.NewGroupName = "All"
			_, err := c.GroupsUpdate(arg)
			return err
		}, "system_managed_group_disallowed"},
		{"groups/delete: system_managed_group_disallowed", func(w sdkWorld, c team.Client) error {
			_, err := c.GroupsDelete(w.everyone)
			return err
		}, "system_managed_group_disallowed"},
		{"groups/job_status/get: invalid_async_job_id", func(_ sdkWorld, c team.Client) error {
			_, err := c.GroupsJobStatusGet(async.NewPollArg("dbjid:nope"))
			return err
		}, "invalid_async_job_id"},
		{"groups/members/add: user_must_be_active_to_be_owner", func(w sdkWorld, c team.Client) error {
			_, err := c.GroupsMembersAdd(team.NewGroupMembersAddArg(w.eng, []*team.MemberAccess{team.NewMemberAccess(byEmail("bob@acme.example"), owner)}))
			return err
		}, "user_must_be_active_to_be_owner"},
		{"groups/members/add: group_not_in_team", func(w sdkWorld, c team.Client) error {
			_, err := c.GroupsMembersAdd(team.NewGroupMembersAddArg(w.theirs, []*team.MemberAccess{team.NewMemberAccess(byEmail("ann@acme.example"), member)}))
			return err
		}, "group_not_in_team"},
		{"groups/members/remove: users_not_found", func(w sdkWorld, c team.Client) error {
			_, err := c.GroupsMembersRemove(team.NewGroupMembersRemoveArg(w.eng, []*team.UserSelectorArg{byEmail("zz@acme.example")}))
			return err
		}, "users_not_found"},
		{"groups/members/set_access_type: member_not_in_group", func(w sdkWorld, c team.Client) error {
			_, err := c.GroupsMembersSetAccessType(team.NewGroupMembersSetAccessTypeArg(w.eng, byEmail("uma@acme.example"), owner))
			return err
		}, "member_not_in_group"},
		{"groups/members/list: group_not_found", func(_ sdkWorld, c team.Client) error {
			_, err := c.GroupsMembersList(team.NewGroupsMembersListArg(&team.GroupSelector{Tagged: sdk.Tagged{Tag: "group_id"}, GroupId: "g:nope"}))
			return err
		}, "group_not_found"},
		{"get_info: expired_access_token", func(w sdkWorld, c team.Client) error {
			w.srv.ExpireToken(testToken)
			_, err := c.GetInfo()
			return err
		}, "401 expired_access_token"},
		{"features/get_values: an empty (not nil) list is empty_features_list", func(_ sdkWorld, c team.Client) error {
			_, err := c.FeaturesGetValues(team.NewFeaturesGetValuesBatchArg([]*team.Feature{}))
			return err
		}, "empty_features_list"},
		{"token/get_authenticated_admin: admin_not_active", func(w sdkWorld, c team.Client) error {
			must(w.t, w.team.Configure(TeamSettings{AdminEmail: ptr("cat@acme.example")}))
			_, err := c.TokenGetAuthenticatedAdmin()
			return err
		}, "admin_not_active"},
		{"token/get_authenticated_admin: mapping_not_found", func(w sdkWorld, c team.Client) error {
			must(w.t, w.team.Configure(TeamSettings{AdminEmail: ptr("")}))
			_, err := c.TokenGetAuthenticatedAdmin()
			return err
		}, "mapping_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newSDKWorld(t)
			got := outcome(tc.call(w, w.sdk(testToken)))
			if got != tc.want && !(strings.HasPrefix(tc.want, "400: ") && strings.HasPrefix(got, tc.want)) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// groups/members/set_access_type answers a bare list of GroupsGetInfoItem
// (reference §7.8), which the SDK reads as such.
func TestSDKGroupMembersSetAccessType(t *testing.T) {
	w := newSDKWorld(t)
	c := w.sdk(testToken)
	res, err := c.GroupsMembersSetAccessType(team.NewGroupMembersSetAccessTypeArg(w.eng, byEmail("ann@acme.example"),
		&team.GroupAccessType{Tagged: sdk.Tagged{Tag: "owner"}}))
	if err != nil || len(res) != 1 || res[0].Tag != "group_info" || res[0].GroupInfo.GroupName != "Eng" ||
		len(res[0].GroupInfo.Members) != 1 || res[0].GroupInfo.Members[0].AccessType.Tag != "owner" {
		t.Fatalf("%+v %v", res, err)
	}
	if g := w.team.Snapshot().Groups[1]; len(g.Owners) != 1 || g.Owners[0] != w.ids["ann"] {
		t.Errorf("owners %+v", g.Owners)
	}
}
