package archtest

import (
	"go/build"
	"path/filepath"
	"slices"
	"testing"
)

// The API and the web UI are two faces of one service layer: each imports
// internal/service and neither imports the other, so no use case can be
// written twice again. Credentials and the workers' connector factory live
// outside the web UI, so the engine's wiring needs nothing of it; the
// importer runs without the engine.
func TestFacesShareTheServiceLayer(t *testing.T) {
	root := moduleRoot(t)
	for _, face := range []string{"api", "web"} {
		bp, err := build.ImportDir(filepath.Join(root, "internal", face), 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(bp.Imports, module+"internal/service") {
			t.Errorf("internal/%s does not import internal/service", face)
		}
	}
	// Use cases know nothing of the transport that carries them.
	if bp, err := build.ImportDir(filepath.Join(root, "internal", "service"), 0); err != nil || slices.Contains(bp.Imports, "net/http") {
		t.Errorf("internal/service imports net/http (or cannot be read: %v)", err)
	}
	never := []struct{ pkg, dep string }{
		{"api", "internal/web"},
		{"web", "internal/api"},
		{"service", "internal/web"},
		{"service", "internal/api"},
		{"credential", "internal/web"},
		{"credential", "internal/api"},
		{"engine", "net/http"},
		{"engine", "internal/web"},
		{"importer", "internal/engine"},
	}
	for _, n := range never {
		dep := n.dep
		if dep != "net/http" {
			dep = module + dep
		}
		if via, ok := closure(t, root, module+"internal/"+n.pkg)[dep]; ok {
			t.Errorf("internal/%s imports %s (via %s)", n.pkg, n.dep, via)
		}
	}
}
