package archtest

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/roster-dev/roster/"

// Domain packages know nothing of HTTP or SQL, and the engine nothing of the
// web UI, the API or any one connector (DESIGN.md, issue 15).
func TestImportGraph(t *testing.T) {
	root := moduleRoot(t)
	forbidden := []string{"net/http", "database/sql", module + "internal/web", module + "internal/api",
		module + "internal/connector/dropbox", module + "internal/emulator/dropbox"}
	if _, ok := closure(t, root, module+"internal/store/sqlstore")["database/sql"]; !ok {
		t.Fatal("the closure misses sqlstore's database/sql: it would miss a forbidden import too")
	}
	for _, pkg := range []string{"directory", "app", "connector", "audit", "engine"} {
		deps := closure(t, root, module+"internal/"+pkg)
		for _, f := range forbidden {
			if path, ok := deps[f]; ok {
				t.Errorf("internal/%s imports %s (via %s)", pkg, f, path)
			}
		}
	}
}

// closure maps every package pkg imports, directly or not, to the package
// that imports it. Packages outside the module and the standard library are
// taken as leaves.
func closure(t *testing.T, root, pkg string) map[string]string {
	seen := map[string]string{}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		var bp *build.Package
		var err error
		switch {
		case strings.HasPrefix(p, module):
			bp, err = build.ImportDir(filepath.Join(root, strings.TrimPrefix(p, module)), 0)
		case !strings.Contains(strings.Split(p, "/")[0], "."):
			bp, err = build.Import(p, "", 0)
		default:
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, imp := range bp.Imports {
			if _, ok := seen[imp]; !ok && imp != "C" && imp != "unsafe" {
				seen[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return seen
}
