package scim

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// ownUser finds a user the source owns by its id; another's is not found.
func (s *Server) ownUser(r *http.Request, src store.Source) (directory.User, error) {
	id := r.PathValue("id")
	u, err := s.st.GetUserByExternalKey(r.Context(), id)
	if err == nil && u.Source != src.Name {
		err = directory.ErrNotFound
	}
	if errors.Is(err, directory.ErrNotFound) {
		return u, errf(404, "", "no User with id %q in source %s", id, src.Name)
	}
	return u, err
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, src store.Source) error {
	u, err := s.ownUser(r, src)
	if err != nil {
		return err
	}
	proj, err := projectionOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, proj.apply(render(r, u)))
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, src store.Source) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	d, err := readUser(body)
	if err != nil {
		return err
	}
	u, err := newUser(d, src)
	if err != nil {
		return err
	}
	// A user taken over gets the document's fields as a PUT would set them.
	fill := func(cur *directory.User) error {
		if !d.activeSet {
			d.active = cur.Status == directory.StatusActive || cur.Status == directory.StatusStaged
		}
		return d.applyTo(cur, src.Settings.DeactivateAs)
	}
	u, adopted, err := s.svc.SourceCreateUser(r.Context(), src, u, fill)
	if err != nil {
		return err
	}
	if adopted {
		s.log.Info("scim source adopted a user", slog.String("source", src.Name), slog.String("user", u.Username))
	}
	w.Header().Set("Location", location(r, "Users", u.ExternalKey))
	writeJSON(w, http.StatusCreated, render(r, u))
	return nil
}

func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request, src store.Source) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	d, err := readUser(body)
	if err != nil {
		return err
	}
	u, err := s.svc.SourceUpdateUser(r.Context(), src, r.PathValue("id"), func(cur *directory.User) error {
		if !d.activeSet {
			d.active = cur.Status == directory.StatusActive || cur.Status == directory.StatusStaged
		}
		return d.applyTo(cur, src.Settings.DeactivateAs)
	})
	if err != nil {
		return notFoundAs(err, "User", r)
	}
	writeJSON(w, http.StatusOK, render(r, u))
	return nil
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, src store.Source) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	ops, err := readPatch(body)
	if err != nil {
		return err
	}
	// The operations apply to the user as stored, in the transaction that
	// stores the result: concurrent PATCHes never undo each other.
	u, err := s.svc.SourceUpdateUser(r.Context(), src, r.PathValue("id"), func(cur *directory.User) error {
		d := docOf(*cur)
		if err := d.patch(ops); err != nil {
			return err
		}
		return d.applyTo(cur, src.Settings.DeactivateAs)
	})
	if err != nil {
		return notFoundAs(err, "User", r)
	}
	writeJSON(w, http.StatusOK, render(r, u))
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, src store.Source) error {
	if _, err := s.svc.SourceDetachUser(r.Context(), src, r.PathValue("id")); err != nil {
		return notFoundAs(err, "User", r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// notFoundAs words a not-found error as SCIM's 404 for the resource.
func notFoundAs(err error, kind string, r *http.Request) error {
	if errors.Is(err, directory.ErrNotFound) && !isScimError(err) {
		return errf(404, "", "no %s with id %q in this source", kind, r.PathValue("id"))
	}
	return err
}

func isScimError(err error) bool {
	var se *Error
	return errors.As(err, &se)
}

// listParams are a list request's paging.
type listParams struct {
	filter     filter.Expression
	startIndex int // 1-based
	count      int
	proj       projection
}

func listParamsOf(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	lp := listParams{startIndex: 1, count: 100}
	if f := q.Get("filter"); f != "" {
		e, err := parseFilter(f)
		if err != nil {
			return lp, err
		}
		lp.filter = e
	}
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return lp, badValue("startIndex must be a whole number, got %q", v)
		}
		lp.startIndex = max(1, n) // RFC 7644: less than 1 is 1
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return lp, badValue("count must be a whole number, got %q", v)
		}
		lp.count = min(max(0, n), maxResults)
	}
	var err error
	lp.proj, err = projectionOf(r)
	return lp, err
}

func listResponse(total, start int, items []any) map[string]any {
	if items == nil {
		items = []any{}
	}
	return map[string]any{"schemas": []string{msgList}, "totalResults": total, "startIndex": start, "itemsPerPage": len(items), "Resources": items}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, src store.Source) error {
	lp, err := listParamsOf(r)
	if err != nil {
		return err
	}
	users, total, err := s.findUsers(r, src, lp)
	if err != nil {
		return err
	}
	items := make([]any, 0, len(users))
	for _, u := range users {
		items = append(items, lp.proj.apply(render(r, u)))
	}
	writeJSON(w, http.StatusOK, listResponse(total, lp.startIndex, items))
	return nil
}

// findUsers answers a list: the filters clients send before a create
// (userName eq, externalId eq, id eq) by index; any other filter by a pass
// over the source's users.
func (s *Server) findUsers(r *http.Request, src store.Source, lp listParams) ([]directory.User, int, error) {
	ctx := r.Context()
	if attr, val, ok := simpleEq(lp.filter); ok {
		var found []directory.User
		switch attr {
		case "username":
			u, err := s.st.GetUser(ctx, val)
			if err == nil && u.Source == src.Name {
				found = append(found, u)
			} else if err != nil && !errors.Is(err, directory.ErrNotFound) {
				return nil, 0, err
			}
		case "id":
			u, err := s.st.GetUserByExternalKey(ctx, val)
			if err == nil && u.Source == src.Name {
				found = append(found, u)
			} else if err != nil && !errors.Is(err, directory.ErrNotFound) {
				return nil, 0, err
			}
		case "externalid":
			us, err := s.st.UsersByAttribute(ctx, src.Name, coreKey("externalId"), val)
			if err != nil {
				return nil, 0, err
			}
			found = us
		default:
			ok = false
		}
		if ok {
			return page(found, lp), len(found), nil
		}
	}
	if lp.filter == nil {
		fresh, err := s.st.GetSource(ctx, src.Name)
		if err != nil {
			return nil, 0, err
		}
		out, err := s.scanUsers(r, src, lp, lp.startIndex-1+lp.count)
		if err != nil {
			return nil, 0, err
		}
		return page(out, lp), fresh.Users, nil
	}
	all, err := s.scanUsers(r, src, lp, -1)
	if err != nil {
		return nil, 0, err
	}
	return page(all, lp), len(all), nil
}

// scanUsers reads the source's users in id order, keeping those that pass
// the filter, until it has upTo of them (-1: all).
func (s *Server) scanUsers(r *http.Request, src store.Source, lp listParams, upTo int) ([]directory.User, error) {
	var out []directory.User
	f := store.UserFilter{Source: src.Name, Page: store.Page{Limit: 1000}}
	for upTo < 0 || len(out) < upTo {
		batch, err := s.st.ListUsers(r.Context(), f)
		if err != nil {
			return nil, err
		}
		for _, u := range batch {
			if lp.filter != nil {
				ok, err := matches(lp.filter, render(r, u))
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			out = append(out, u)
		}
		if len(batch) < f.Limit {
			break
		}
		f.After = batch[len(batch)-1].ID
	}
	return out, nil
}

func page[T any](all []T, lp listParams) []T {
	start := lp.startIndex - 1
	if start >= len(all) {
		return nil
	}
	return all[start:min(len(all), start+lp.count)]
}

// simpleEq recognises attr eq "value" (attr in lower case, without a schema
// other than the core one), the filters clients send before a create.
func simpleEq(e filter.Expression) (string, string, bool) {
	x, ok := e.(*filter.AttributeExpression)
	if !ok || !strings.EqualFold(string(x.Operator), "eq") || x.AttributePath.SubAttribute != nil {
		return "", "", false
	}
	if uri := x.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, SchemaUser) && !strings.EqualFold(uri, SchemaGroup) {
		return "", "", false
	}
	v, ok := unquote(x.CompareValue).(string)
	return strings.ToLower(x.AttributePath.AttributeName), v, ok
}
