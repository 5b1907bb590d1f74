// Package csvload reads directory users from CSV. Every row is checked before
// anything is stored, and the load is all or nothing, so a file with one bad row
// leaves the directory exactly as it was and says which lines to fix.
package csvload

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// RowError is one problem with one line of the file.
type RowError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Errors lists every problem found; the file was not loaded.
type Errors struct{ Rows []RowError }

// MaxReported bounds how many row problems an error carries.
const MaxReported = 100

func (e *Errors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problem(s) in the CSV, nothing was loaded", len(e.Rows))
	for i, r := range e.Rows {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Rows)-i)
			break
		}
		fmt.Fprintf(&b, "; line %d: %s", r.Line, r.Message)
	}
	return b.String()
}

// Is lets callers treat row problems as invalid input.
func (e *Errors) Is(target error) bool { return target == directory.ErrInvalid }

func (e *Errors) add(line int, format string, a ...any) {
	if len(e.Rows) < MaxReported {
		e.Rows = append(e.Rows, RowError{line, fmt.Sprintf(format, a...)})
	}
}

// columns maps header spellings admins use to fields; other headers become attributes.
var columns = map[string]string{
	"username": "username", "login": "username",
	"email": "email", "mail": "email",
	"firstname": "first_name", "givenname": "first_name",
	"lastname": "last_name", "surname": "last_name", "familyname": "last_name",
	"status": "status",
}

func fieldOf(header string) string {
	h := strings.ToLower(strings.NewReplacer("_", "", " ", "", "-", "").Replace(strings.TrimSpace(header)))
	return columns[h]
}

// Parse reads users from r. It returns *Errors listing every bad row.
func Parse(r io.Reader) ([]directory.User, []int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0 // every row as wide as the header
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("%w: the CSV is empty; it needs a header line with at least username and email", directory.ErrInvalid)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: CSV header: %w", directory.ErrInvalid, err)
	}
	if i := nulColumn(header); i >= 0 {
		return nil, nil, &Errors{[]RowError{{1, fmt.Sprintf("header column %d holds a NUL character", i+1)}}}
	}
	fields, err := headerFields(header)
	if err != nil {
		return nil, nil, err
	}
	var users []directory.User
	var lines []int
	errs := &Errors{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// FieldPos panics after a failed read, so the line comes from the error.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			errs.add(line, "%v", unwrapCSV(err))
			if pe == nil || pe.Err != csv.ErrFieldCount {
				break // the reader cannot resync after a quoting error
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if i := nulColumn(rec); i >= 0 {
			errs.add(line, "column %q holds a NUL character", strings.TrimSpace(header[i]))
			continue
		}
		u := rowUser(fields, header, rec)
		u.Normalize()
		if err := u.Validate(); err != nil {
			errs.add(line, "%s", strings.ReplaceAll(strings.TrimPrefix(err.Error(), "invalid: "), "\n", "; "))
		}
		users = append(users, u)
		lines = append(lines, line)
	}
	if len(users) == 0 && len(errs.Rows) == 0 {
		return nil, nil, fmt.Errorf("%w: the CSV has a header but no users", directory.ErrInvalid)
	}
	checkDuplicates(users, lines, errs)
	if len(errs.Rows) > 0 {
		return nil, nil, errs
	}
	return users, lines, nil
}

// nulColumn returns the index of the first field holding a NUL, or -1.
// PostgreSQL cannot store NUL in text, so no field may hold one.
func nulColumn(rec []string) int {
	return slices.IndexFunc(rec, func(v string) bool { return strings.ContainsRune(v, 0) })
}

func unwrapCSV(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func headerFields(header []string) ([]string, error) {
	fields := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		f := fieldOf(h)
		if f == "" {
			f = "attr:" + strings.TrimSpace(h)
		}
		if seen[f] {
			return nil, fmt.Errorf("%w: CSV header names column %q twice", directory.ErrInvalid, h)
		}
		seen[f] = true
		fields[i] = f
	}
	for _, need := range []string{"username", "email"} {
		if !seen[need] {
			return nil, fmt.Errorf("%w: CSV header has no %s column (found: %s)", directory.ErrInvalid, need, strings.Join(header, ", "))
		}
	}
	return fields, nil
}

func rowUser(fields, header, rec []string) directory.User {
	var u directory.User
	for i, v := range rec {
		switch f := fields[i]; f {
		case "username":
			u.Username = v
		case "email":
			u.Email = v
		case "first_name":
			u.FirstName = v
		case "last_name":
			u.LastName = v
		case "status":
			u.Status = directory.Status(strings.ToLower(strings.TrimSpace(v)))
		default:
			if v = strings.TrimSpace(v); v != "" {
				if u.Attributes == nil {
					u.Attributes = map[string]string{}
				}
				u.Attributes[strings.TrimSpace(header[i])] = v
			}
		}
	}
	return u
}

func checkDuplicates(users []directory.User, lines []int, errs *Errors) {
	byName, byEmail := map[string]int{}, map[string]int{}
	for i, u := range users {
		if first, ok := byName[directory.Key(u.Username)]; ok && u.Username != "" {
			errs.add(lines[i], "username %q is also on line %d", u.Username, first)
		} else {
			byName[directory.Key(u.Username)] = lines[i]
		}
		if first, ok := byEmail[directory.Key(u.Email)]; ok && u.Email != "" {
			errs.add(lines[i], "email %q is also on line %d", u.Email, first)
		} else {
			byEmail[directory.Key(u.Email)] = lines[i]
		}
	}
}

// Load parses r and creates every user in one transaction, or none. It returns
// how many users were created.
func Load(ctx context.Context, st store.Store, by store.Actor, r io.Reader) (int, error) {
	users, lines, err := Parse(r)
	if err != nil {
		return 0, err
	}
	names, emails := make([]string, len(users)), make([]string, len(users))
	for i, u := range users {
		names[i], emails[i] = u.Username, u.Email
	}
	taken, err := st.ExistingUsers(ctx, names, emails)
	if err != nil {
		return 0, fmt.Errorf("check existing users: %w", err)
	}
	errs := &Errors{}
	for i, u := range users {
		if taken[directory.Key(u.Username)] {
			errs.add(lines[i], "username %q already exists in the directory", u.Username)
		}
		if taken[directory.Key(u.Email)] {
			errs.add(lines[i], "email %q already belongs to a directory user", u.Email)
		}
	}
	if len(errs.Rows) > 0 {
		return 0, errs
	}
	if err := st.CreateUsers(ctx, by, users); err != nil {
		return 0, err
	}
	return len(users), nil
}
