package scim

import (
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/store"
)

func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request, _ store.Source) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{schemaSPC},
		"documentationUri": "https://github.com/roster-dev/roster#scim-20-okta-entra-id",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []any{map[string]any{"type": "oauthbearertoken", "name": "Bearer token",
			"description": "The token of a SCIM source, made with roster sources add scim NAME", "primary": true}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": location(r, "ServiceProviderConfig", "")},
	})
	return nil
}

func resourceTypes(r *http.Request) []map[string]any {
	return []map[string]any{
		{"schemas": []string{schemaRT}, "id": "User", "name": "User", "endpoint": "/Users", "schema": SchemaUser,
			"schemaExtensions": []any{map[string]any{"schema": SchemaEnterprise, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": location(r, "ResourceTypes", "User")}},
		{"schemas": []string{schemaRT}, "id": "Group", "name": "Group", "endpoint": "/Groups", "schema": SchemaGroup,
			"meta": map[string]any{"resourceType": "ResourceType", "location": location(r, "ResourceTypes", "Group")}},
	}
}

func (s *Server) resourceTypes(w http.ResponseWriter, r *http.Request, _ store.Source) error {
	rts := resourceTypes(r)
	items := make([]any, len(rts))
	for i, rt := range rts {
		items[i] = rt
	}
	writeJSON(w, http.StatusOK, listResponse(len(items), 1, items))
	return nil
}

func (s *Server) resourceType(w http.ResponseWriter, r *http.Request, _ store.Source) error {
	for _, rt := range resourceTypes(r) {
		if strings.EqualFold(rt["id"].(string), r.PathValue("id")) {
			writeJSON(w, http.StatusOK, rt)
			return nil
		}
	}
	return errf(404, "", "no resource type %q (User, Group)", r.PathValue("id"))
}

// attr describes one attribute for /Schemas.
func attr(name, typ string, multi, required bool, mutability, uniqueness string, subs ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": multi, "required": required, "caseExact": false,
		"mutability": mutability, "returned": "default", "uniqueness": uniqueness, "description": name}
	if len(subs) > 0 {
		a["subAttributes"] = subs
	}
	return a
}

func str(name string) map[string]any { return attr(name, "string", false, false, "readWrite", "none") }

func schemaList(r *http.Request) []map[string]any {
	s := func(id, name string, attrs ...map[string]any) map[string]any {
		return map[string]any{"schemas": []string{schemaSchema}, "id": id, "name": name, "description": name, "attributes": attrs,
			"meta": map[string]any{"resourceType": "Schema", "location": location(r, "Schemas", id)}}
	}
	return []map[string]any{
		s(SchemaUser, "User",
			attr("userName", "string", false, true, "readWrite", "server"),
			attr("name", "complex", false, false, "readWrite", "none", str("givenName"), str("familyName"), str("middleName"), str("formatted")),
			str("displayName"), str("externalId"), str("nickName"), str("title"), str("userType"), str("preferredLanguage"), str("locale"), str("timezone"), str("profileUrl"),
			attr("active", "boolean", false, false, "readWrite", "none"),
			attr("emails", "complex", true, true, "readWrite", "none", str("value"), str("type"), attr("primary", "boolean", false, false, "readWrite", "none"))),
		s(SchemaEnterprise, "EnterpriseUser",
			str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
			attr("manager", "complex", false, false, "readWrite", "none", str("value"))),
		s(SchemaGroup, "Group",
			attr("displayName", "string", false, true, "readWrite", "server"), str("externalId"),
			attr("members", "complex", true, false, "readWrite", "none", attr("value", "string", false, false, "immutable", "none"), str("display"))),
	}
}

func (s *Server) schemas(w http.ResponseWriter, r *http.Request, _ store.Source) error {
	list := schemaList(r)
	items := make([]any, len(list))
	for i, sc := range list {
		items[i] = sc
	}
	writeJSON(w, http.StatusOK, listResponse(len(items), 1, items))
	return nil
}

func (s *Server) schema(w http.ResponseWriter, r *http.Request, _ store.Source) error {
	for _, sc := range schemaList(r) {
		if strings.EqualFold(sc["id"].(string), r.PathValue("id")) {
			writeJSON(w, http.StatusOK, sc)
			return nil
		}
	}
	return errf(404, "", "no schema %q", r.PathValue("id"))
}
