package archtest

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dropboxHomes may name Dropbox's routes and error tags: the connector (with
// its settings), the emulator and the command that runs it.
var dropboxHomes = []string{"internal/connector/dropbox/", "internal/emulator/dropbox/", "cmd/roster/emulate.go"}

// routeRE matches a Dropbox route or URL path in a string literal.
var routeRE = regexp.MustCompile(`^"(/2/|team/|(members|groups|team_log|legal_holds|devices|linked_apps|member_space_limits|team_folder|namespaces|properties|reports|features|token)/[a-z0-9_/]+)`)

// knownTags are Dropbox error tags (reference §2.3 and the route errors);
// errorTags adds every tag the connector classifies.
var knownTags = []string{
	"user_already_on_team", "id_not_found", "team_license_limit", "user_unrecoverable",
	"group_not_found", "group_not_in_team", "group_name_already_used", "user_not_found",
	"user_not_in_team", "users_not_found", "members_not_in_team", "duplicate_external_member_id",
	"external_id_already_in_use", "duplicate_user", "member_not_in_group", "role_not_found",
	"unsuspend_non_suspended_member", "suspend_inactive_user", "group_already_deleted",
	"expired_access_token", "invalid_access_token", "missing_scope", "system_managed",
}

// Neutral layers name no Dropbox route or error tag: only the connector and
// the emulator speak Dropbox's wire format.
func TestNoDropboxWireOutsideItsHomes(t *testing.T) {
	root := moduleRoot(t)
	tags := errorTags(t, root)
	var bad []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && rel != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || home(rel) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range wireNames(src, tags) {
			bad = append(bad, rel+": "+f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("Dropbox's wire format named outside internal/connector/dropbox and internal/emulator/dropbox; map it to connector error reasons or move it into the connector:\n%s", strings.Join(bad, "\n"))
	}
}

// The matcher finds what it must and leaves neutral text alone.
func TestWireNames(t *testing.T) {
	tags := map[string]bool{"user_already_on_team": true, "team_license_limit": true}
	cases := []struct {
		src  string
		want int
	}{
		{`package p; var r = "members/add_v2"`, 1},
		{`package p; var r = "team/members/remove"`, 1},
		{"package p; var u = base + `/2/team/groups/create`", 1},
		{`package p; func f(tag string) bool { return tag == "user_already_on_team" }`, 1},
		{`package p; var e = "refused: team_license_limit reached"`, 1},
		{`package p; var a = "account.create"; var g = "/groups/new"; var h = "members"`, 0},
		{`package p; var u = "user_already_on_team_x"`, 0},
	}
	for _, c := range cases {
		if got := wireNames([]byte(c.src), tags); len(got) != c.want {
			t.Errorf("%s: found %v, want %d", c.src, got, c.want)
		}
	}
}

func home(rel string) bool {
	return slices.ContainsFunc(dropboxHomes, func(h string) bool { return strings.HasPrefix(rel, h) })
}

// wireNames lists the string literals of src that name a route or a tag.
func wireNames(src []byte, tags map[string]bool) []string {
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile("x.go", -1, len(src)), src, nil, 0)
	word := regexp.MustCompile(`[a-z0-9_]+`)
	var out []string
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return out
		}
		if tok != token.STRING {
			continue
		}
		line := fset.Position(pos).Line
		if routeRE.MatchString(lit) || strings.Contains(lit, "/2/") {
			out = append(out, strconv.Itoa(line)+": route "+lit)
			continue
		}
		for _, w := range word.FindAllString(lit, -1) {
			if tags[w] {
				out = append(out, strconv.Itoa(line)+": error tag "+lit)
				break
			}
		}
	}
}

// errorTags are knownTags and every case label of the connector's error
// classification, so a tag the connector learns is guarded at once.
func errorTags(t *testing.T, root string) map[string]bool {
	tags := map[string]bool{}
	for _, tag := range knownTags {
		tags[tag] = true
	}
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "internal/connector/dropbox/errors.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		if cc, ok := node.(*ast.CaseClause); ok {
			for _, e := range cc.List {
				if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
					s, _ := strconv.Unquote(bl.Value)
					tags[s], n = true, n+1
				}
			}
		}
		return true
	})
	if n < 10 {
		t.Fatalf("found %d tags in the connector's error classification; has it moved?", n)
	}
	return tags
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
