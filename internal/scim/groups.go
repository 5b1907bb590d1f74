package scim

import (
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// How a SCIM Group maps onto a directory group: displayName is its name,
// members its members (users by id), externalId the source's own id of it.

func (s *Server) renderGroup(r *http.Request, g store.SourceGroup, proj projection) (map[string]any, error) {
	res := map[string]any{
		"schemas":     []string{SchemaGroup},
		"id":          g.ExternalKey,
		"displayName": g.Name,
		"meta": map[string]any{"resourceType": "Group", "created": g.CreatedAt.Format(timeFormat),
			"lastModified": g.CreatedAt.Format(timeFormat), "location": location(r, "Groups", g.ExternalKey)},
	}
	if g.ExternalID != "" {
		res["externalId"] = g.ExternalID
	}
	if proj.keep("members") {
		refs, err := s.st.GroupMemberRefs(r.Context(), g.ID)
		if err != nil {
			return nil, err
		}
		members := make([]any, len(refs))
		for i, m := range refs {
			members[i] = map[string]any{"value": m.Key, "display": m.Username, "$ref": location(r, "Users", m.Key)}
		}
		res["members"] = members
	}
	return proj.apply(res), nil
}

func (s *Server) ownGroup(r *http.Request, src store.Source) (store.SourceGroup, error) {
	g, err := s.st.GetSourceGroup(r.Context(), src.Name, r.PathValue("id"))
	if errors.Is(err, directory.ErrNotFound) {
		return g, errf(404, "", "no Group with id %q in source %s", r.PathValue("id"), src.Name)
	}
	return g, err
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, src store.Source) error {
	g, err := s.ownGroup(r, src)
	if err != nil {
		return err
	}
	proj, err := projectionOf(r)
	if err != nil {
		return err
	}
	res, err := s.renderGroup(r, g, proj)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// readGroup reads a Group body (POST, PUT): displayName, externalId and
// members; members absent is none.
func readGroup(body map[string]any) (*groupPatch, error) {
	g := &groupPatch{}
	name, _ := get(body, "displayName")
	s, ok := name.(string)
	if !ok || s == "" {
		return nil, badValue("displayName is required and must be a string, got %s", kindOf(name))
	}
	g.name = &s
	ext := ""
	if v, ok := get(body, "externalId"); ok && v != nil {
		if ext, ok = v.(string); !ok {
			return nil, badValue("externalId must be a string, got %s", kindOf(v))
		}
	}
	g.externalID = &ext
	ids := []string{}
	if v, ok := get(body, "members"); ok && v != nil {
		var err error
		if ids, err = memberIDs(v); err != nil {
			return nil, err
		}
	}
	g.members = &ids
	return g, nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, src store.Source) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	gp, err := readGroup(body)
	if err != nil {
		return err
	}
	g, err := s.svc.SourceWriteGroup(r.Context(), src, gp.write(""))
	if err != nil {
		return err
	}
	res, err := s.renderGroup(r, g, projection{})
	if err != nil {
		return err
	}
	w.Header().Set("Location", location(r, "Groups", g.ExternalKey))
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request, src store.Source) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	gp, err := readGroup(body)
	if err != nil {
		return err
	}
	return s.writeGroup(w, r, src, gp, http.StatusOK)
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, src store.Source) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	ops, err := readPatch(body)
	if err != nil {
		return err
	}
	gp := &groupPatch{}
	if err := gp.patch(ops); err != nil {
		return err
	}
	// A PATCH is answered 204 (RFC 7644 §3.5.2) unless the client asks for
	// attributes: a large group's members are not sent back for each change.
	if r.URL.Query().Get("attributes") == "" && r.URL.Query().Get("excludedAttributes") == "" {
		if _, err := s.svc.SourceWriteGroup(r.Context(), src, gp.write(r.PathValue("id"))); err != nil {
			return notFoundAs(err, "Group", r)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s.writeGroup(w, r, src, gp, http.StatusOK)
}

// writeGroup stores a group's change and answers the group, without its
// members when it has more than a page of them.
func (s *Server) writeGroup(w http.ResponseWriter, r *http.Request, src store.Source, gp *groupPatch, status int) error {
	g, err := s.svc.SourceWriteGroup(r.Context(), src, gp.write(r.PathValue("id")))
	if err != nil {
		return notFoundAs(err, "Group", r)
	}
	proj, err := projectionOf(r)
	if err != nil {
		return err
	}
	if g.Members > maxResults && len(proj.only) == 0 {
		proj.except = append(proj.except, "members")
	}
	res, err := s.renderGroup(r, g, proj)
	if err != nil {
		return err
	}
	writeJSON(w, status, res)
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, src store.Source) error {
	if err := s.svc.SourceDeleteGroup(r.Context(), src, r.PathValue("id")); err != nil {
		return notFoundAs(err, "Group", r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, src store.Source) error {
	lp, err := listParamsOf(r)
	if err != nil {
		return err
	}
	groups, total, err := s.findGroups(r, src, lp)
	if err != nil {
		return err
	}
	items := make([]any, 0, len(groups))
	for _, g := range groups {
		res, err := s.renderGroup(r, g, lp.proj)
		if err != nil {
			return err
		}
		items = append(items, res)
	}
	writeJSON(w, http.StatusOK, listResponse(total, lp.startIndex, items))
	return nil
}

func (s *Server) findGroups(r *http.Request, src store.Source, lp listParams) ([]store.SourceGroup, int, error) {
	ctx := r.Context()
	if attr, val, ok := simpleEq(lp.filter); ok && (attr == "displayname" || attr == "id") {
		var g store.SourceGroup
		var err error
		if attr == "id" {
			g, err = s.st.GetSourceGroup(ctx, src.Name, val)
		} else {
			g, err = s.st.SourceGroupByName(ctx, src.Name, val)
		}
		switch {
		case errors.Is(err, directory.ErrNotFound):
			return nil, 0, nil
		case err != nil:
			return nil, 0, err
		}
		return page([]store.SourceGroup{g}, lp), 1, nil
	}
	var all []store.SourceGroup
	var after int64
	for {
		batch, err := s.st.ListSourceGroups(ctx, src.Name, after, 1000)
		if err != nil {
			return nil, 0, err
		}
		for _, g := range batch {
			if lp.filter != nil {
				res := map[string]any{"id": g.ExternalKey, "displayName": g.Name, "externalId": g.ExternalID}
				ok, err := matches(lp.filter, res)
				if err != nil {
					return nil, 0, err
				}
				if !ok {
					continue
				}
			}
			all = append(all, g)
		}
		if len(batch) < 1000 {
			break
		}
		after = batch[len(batch)-1].ID
	}
	return page(all, lp), len(all), nil
}
