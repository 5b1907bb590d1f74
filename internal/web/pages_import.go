package web

import (
	"github.com/roster-dev/roster/internal/app"
	"net/http"
)

// The import review page is built last, against what the importer exposes;
// until then its routes explain that imports run from the CLI.

func (s *Server) importPage(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "import", page{Title: "Import: " + a.Name, Nav: "apps", Data: importView{App: a}})
	return nil
}

func (s *Server) runImport(w http.ResponseWriter, r *http.Request) error     { return s.notYet(w, r) }
func (s *Server) confirmImport(w http.ResponseWriter, r *http.Request) error { return s.notYet(w, r) }
func (s *Server) ignoreImport(w http.ResponseWriter, r *http.Request) error  { return s.notYet(w, r) }
func (s *Server) linkImport(w http.ResponseWriter, r *http.Request) error    { return s.notYet(w, r) }

func (s *Server) notYet(w http.ResponseWriter, r *http.Request) error {
	s.redirect(w, r, appURL(r.PathValue("name"))+"/import", "error", "Not available yet.")
	return nil
}

type importView struct {
	App app.Instance
}
