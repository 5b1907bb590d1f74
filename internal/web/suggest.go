package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/store"
)

type suggestion struct {
	Username string `json:"username"`
	Name     string `json:"name"`
	Email    string `json:"email"`
}

const suggestionsShown = 20

// suggestUsers answers a user picker as the admin types: up to 20
// directory users whose username, email or name holds q, as JSON.
func (s *Server) suggestUsers(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	out := []suggestion{}
	if q != "" {
		rows, _, err := s.st.QueryUsers(r.Context(), store.UserQuery{Search: q, Limit: suggestionsShown})
		if err != nil {
			return err
		}
		for _, u := range rows {
			out = append(out, suggestion{u.Username, strings.TrimSpace(u.FirstName + " " + u.LastName), u.Email})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(out)
}
