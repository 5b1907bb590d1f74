package dropbox

import "encoding/json"

// teamGetInfo is team/get_info (reference §8.1); the counters are kept by
// setStatus, so this is O(1).
func teamGetInfo(c *call) {
	t := c.t
	c.reply(map[string]any{
		"name": t.name, "team_id": t.id, "num_licensed_users": t.licenses,
		"num_provisioned_users": t.provisioned, "num_used_licenses": t.used,
		"policies": map[string]any{
			"sharing": map[string]any{
				"shared_folder_member_policy": tagged{"team"}, "shared_folder_join_policy": tagged{"from_anyone"},
				"shared_link_create_policy": tagged{"team_only"}, "group_creation_policy": tagged{"admins_only"},
				"shared_folder_link_restriction_policy": tagged{"anyone"}, "enforce_link_password_policy": tagged{"optional"},
				"default_link_expiration_days_policy": tagged{"none"}, "shared_link_default_permissions_policy": tagged{"default"},
			},
			"emm_state": tagged{"disabled"}, "office_addin": tagged{"disabled"},
			"suggest_members_policy": tagged{"enabled"}, "top_level_content_policy": tagged{"admin_only"},
		},
	})
}

// teamFeatures is team/features/get_values; each value is nested twice
// (reference §8.2). Unknown features answer "other", the open-union fallback.
func teamFeatures(c *call) {
	var a struct {
		Features *[]json.RawMessage `json:"features"`
	}
	if !c.decode(&a) {
		return
	}
	if a.Features == nil {
		c.bad(missing("features"))
		return
	}
	if len(*a.Features) == 0 {
		c.fail("empty_features_list")
		return
	}
	out := make([]any, len(*a.Features))
	for i, raw := range *a.Features {
		u, err := parseUnion(raw)
		if !c.check(at("features", err)) {
			return
		}
		out[i] = featureValue(u.tag)
	}
	c.reply(map[string]any{"values": out})
}

func featureValue(name string) any {
	switch name {
	case "upload_api_rate_limit":
		return unionValue(name, map[string]any{".tag": "limit", "limit": 25000})
	case "has_team_shared_dropbox", "has_team_selective_sync", "has_distinct_member_homes":
		return unionValue(name, unionValue(name, false))
	case "has_team_file_events":
		return unionValue(name, unionValue("enabled", false))
	}
	return tagged{"other"}
}

// teamAuthenticatedAdmin is team/token/get_authenticated_admin (reference §2.1).
func teamAuthenticatedAdmin(c *call) {
	t := c.t
	m := t.byID[t.adminID]
	switch {
	case m == nil:
		c.fail("mapping_not_found")
	case m.Status != StatusActive || m.RoleID == "":
		c.fail("admin_not_active")
	default:
		c.reply(map[string]any{"admin_profile": t.teamProfile(m)})
	}
}
