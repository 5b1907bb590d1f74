package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/app"
)

// The README is a promise: these tests hold the parts of it a test can.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The settings table names every setting there is, and only those.
func TestREADMESettingsTable(t *testing.T) {
	s := readme(t)
	_, table, ok := strings.Cut(s, "### Settings of a Dropbox app")
	if !ok {
		t.Fatal("no settings section")
	}
	table, _, _ = strings.Cut(table, "\n\n`roster apps show")
	names := regexp.MustCompile("`([a-z_.]+)`")
	documented := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		prefix := ""
		for _, m := range names.FindAllStringSubmatch(first, -1) {
			k := m[1]
			if i := strings.LastIndex(k, "."); i >= 0 {
				prefix = k[:i+1]
			} else {
				k = prefix + k
			}
			documented[k] = true
		}
	}
	keys := append(app.SettingKeys(), "base_url")
	for _, k := range keys {
		if !documented[k] {
			t.Errorf("setting %s is not in the README's table", k)
		}
	}
	for k := range documented {
		if !slices.Contains(keys, k) {
			t.Errorf("the README's table names %s, which is no setting", k)
		}
	}
}

// No link leaves the repository; the Go release is go.mod's; provisioning
// is enabled only after the plan has been reviewed.
func TestREADMEPromises(t *testing.T) {
	s := readme(t)
	if strings.Contains(s, "](../") || strings.Contains(s, "`../") {
		t.Error("the README points outside the repository")
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	v := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(mod)
	if v == nil || !strings.Contains(s, "Go "+string(v[1])) || !strings.Contains(s, "GOTOOLCHAIN=go"+string(v[1])) {
		t.Errorf("the README does not name go.mod's Go release %s", v)
	}
	_, real, _ := strings.Cut(s, "## Running it for real")
	plan, enable := strings.Index(real, "./roster plan --app dropbox "), strings.Index(real, "provisioning=true")
	if plan < 0 || enable < 0 || enable < plan || enable < strings.Index(real, "./roster assign") {
		t.Error("Running it for real enables provisioning before assign and plan")
	}
	for _, want := range []string{"--listen", "127.0.0.1:8080", "--base-url", "base_url=", "roster emulate dropbox --help", "root", "apt-get", "PostgreSQL"} {
		if !strings.Contains(s, want) {
			t.Errorf("the README does not say %q", want)
		}
	}
}

// apps set --help names every setting too.
func TestAppsSetHelpNamesEverySetting(t *testing.T) {
	for _, k := range app.SettingKeys() {
		short := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(settingKeys, k) && !strings.Contains(settingKeys, short) {
			t.Errorf("apps set --help does not name %s", k)
		}
	}
}
