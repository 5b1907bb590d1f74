// Package demo builds a believable sample company for `roster demo` and for
// benchmarks: people with names, departments as groups, and a few admins.
package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
)

var (
	firstNames = []string{"Ada", "Ben", "Chloé", "Dev", "Emil", "Fatima", "Gus", "Hana", "Ivan", "Jia", "Kofi", "Lena",
		"Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tomás", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë"}
	lastNames = []string{"Abbott", "Brandt", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ishikawa",
		"Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "O'Brien", "Petrov", "Quispe", "Rossi", "Santos",
		"Tanaka", "Umarov", "Varga", "Weber", "Xu", "Yilmaz", "Zimmermann"}
	departments = []string{"Engineering", "Sales", "Marketing", "Finance", "Support", "People", "Legal", "Operations"}
)

// Company is a generated directory.
type Company struct {
	Domain string
	Users  []directory.User
	// Groups maps a department to the usernames in it.
	Groups map[string][]string
	// Roles maps the usernames that get an admin role to it.
	Roles map[string]directory.Role
}

// Generate makes n people on domain, the same for the same seed.
func Generate(n int, domain string, seed uint64) Company {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := Company{Domain: domain, Groups: map[string][]string{}, Roles: map[string]directory.Role{}}
	seen := map[string]int{}
	for i := range n {
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		local := asciiLower(first) + "." + asciiLower(last)
		if k := seen[local]; k > 0 {
			local = fmt.Sprintf("%s%d", local, k+1)
		}
		seen[asciiLower(first)+"."+asciiLower(last)]++
		email := local + "@" + domain
		dept := departments[r.IntN(len(departments))]
		c.Users = append(c.Users, directory.User{
			Username: email, Email: email, FirstName: first, LastName: last, Status: directory.StatusActive,
			Attributes: map[string]string{"department": dept, "employee_id": fmt.Sprintf("E%06d", i+1)},
		})
		c.Groups[dept] = append(c.Groups[dept], email)
		switch {
		case i == 0:
			c.Roles[email] = "team_admin"
		case i%97 == 1:
			c.Roles[email] = "user_management_admin"
		case i%53 == 2:
			c.Roles[email] = "support_admin"
		}
	}
	return c
}

// asciiLower makes a name usable in an email address.
func asciiLower(s string) string {
	repl := strings.NewReplacer("é", "e", "á", "a", "í", "i", "ó", "o", "ë", "e", "ç", "c", "'", "")
	return strings.ToLower(repl.Replace(s))
}

// CSV renders the company as a CSV file for `roster users import-csv`.
func (c Company) CSV() string {
	var b strings.Builder
	b.WriteString("username,email,first_name,last_name,department,employee_id\n")
	for _, u := range c.Users {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s\n", u.Username, u.Email, csvField(u.FirstName), csvField(u.LastName),
			u.Attributes["department"], u.Attributes["employee_id"])
	}
	return b.String()
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
