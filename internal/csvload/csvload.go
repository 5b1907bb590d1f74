// Package csvload reads directory users from CSV. Every row is checked before
// anything is stored, and the load is all or nothing, so a file with one bad row
// leaves the directory exactly as it was and says which lines to fix.
package csvload

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"os"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// RowError is one problem with one line of the file.
type RowError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
	// Conflict: the row is good but what it names is taken in the directory.
	Conflict bool `json:"conflict,omitempty"`
}

// Errors lists every problem found; the file was not loaded.
type Errors struct{ Rows []RowError }

// MaxReported bounds how many row problems an error carries.
const MaxReported = 100

func (e *Errors) Error() string {
	var b strings.Builder
	b.WriteString(e.Summary())
	for i, r := range e.Rows {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Rows)-i)
			break
		}
		fmt.Fprintf(&b, "; line %d: %s", r.Line, r.Message)
	}
	return b.String()
}

// Summary says how many problems there are, without them (they go with it
// one per line).
func (e *Errors) Summary() string {
	return fmt.Sprintf("%d problem(s) in the CSV, nothing was loaded", len(e.Rows))
}

// Is lets callers treat row problems as invalid input, or as a conflict
// when every row is good but names a user the directory has (a file
// imported twice).
func (e *Errors) Is(target error) bool {
	conflict := len(e.Rows) > 0
	for _, r := range e.Rows {
		conflict = conflict && r.Conflict
	}
	if conflict {
		return target == directory.ErrConflict
	}
	return target == directory.ErrInvalid
}

// sort orders the problems by line, each line's in the order found.
func (e *Errors) sort() {
	slices.SortStableFunc(e.Rows, func(a, b RowError) int { return cmp.Compare(a.Line, b.Line) })
}

func (e *Errors) add(line int, format string, a ...any) {
	if len(e.Rows) < MaxReported {
		e.Rows = append(e.Rows, RowError{Line: line, Message: fmt.Sprintf(format, a...)})
	}
}

func (e *Errors) addConflict(line int, format string, a ...any) {
	if len(e.Rows) < MaxReported {
		e.Rows = append(e.Rows, RowError{Line: line, Message: fmt.Sprintf(format, a...), Conflict: true})
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
	var users []directory.User
	var lines []int
	errs := &Errors{}
	err := scan(r, errs, func(u directory.User, line int) error {
		users, lines = append(users, u), append(lines, line)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(errs.Rows) > 0 {
		errs.sort()
		return nil, nil, errs
	}
	return users, lines, nil
}

// scan reads r row by row, checks each row alone and against the rows before
// it, records problems in errs and hands each good row to keep. It stops once
// errs is full; keep may add problems too.
func scan(r io.Reader, errs *Errors, keep func(u directory.User, line int) error) error {
	rd, err := newReader(r)
	if err != nil {
		return err
	}
	dups := newDuplicates()
	n := 0
	for len(errs.Rows) < MaxReported {
		u, line, problem, err := rd.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n++
		if problem != "" {
			errs.add(line, "%s", problem)
		}
		dups.check(u, line, errs)
		if problem == "" {
			if err := keep(u, line); err != nil {
				return err
			}
		}
	}
	if n == 0 && len(errs.Rows) == 0 {
		return fmt.Errorf("%w: the CSV has a header but no users", directory.ErrInvalid)
	}
	return nil
}

// reader reads users from a CSV one row at a time.
type reader struct {
	cr             *csv.Reader
	header, fields []string
	stopped        bool // after an error the CSV reader cannot resync from
}

func newReader(r io.Reader) (*reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// Excel's "CSV UTF-8" starts with a byte-order mark: not part of the header.
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = 0 // every row as wide as the header
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true // each record's strings are still its own
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: the CSV is empty; it needs a header line with at least username and email", directory.ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: CSV header: %w", directory.ErrInvalid, err)
	}
	if i := nulColumn(header); i >= 0 {
		return nil, &Errors{Rows: []RowError{{Line: 1, Message: fmt.Sprintf("header column %d holds a NUL character", i+1)}}}
	}
	header = slices.Clone(header)
	fields, err := headerFields(header)
	if err != nil {
		return nil, err
	}
	return &reader{cr: cr, header: header, fields: fields}, nil
}

// next returns the next row's user, normalised, with its line and what is
// wrong with it ("" when nothing is); io.EOF after the last row. A failed
// read of r itself is an error, not a problem with a row.
func (rd *reader) next() (directory.User, int, string, error) {
	if rd.stopped {
		return directory.User{}, 0, "", io.EOF
	}
	rec, err := rd.cr.Read()
	var pe *csv.ParseError
	switch {
	case err == io.EOF:
		return directory.User{}, 0, "", io.EOF
	case errors.As(err, &pe):
		// FieldPos panics after a failed read, so the line comes from the error.
		rd.stopped = pe.Err != csv.ErrFieldCount // the reader cannot resync after a quoting error
		return directory.User{}, pe.StartLine, pe.Err.Error(), nil
	case err != nil:
		return directory.User{}, 0, "", fmt.Errorf("read the CSV: %w", err)
	}
	line, _ := rd.cr.FieldPos(0)
	if i := nulColumn(rec); i >= 0 {
		return directory.User{}, line, fmt.Sprintf("column %q holds a NUL character", strings.TrimSpace(rd.header[i])), nil
	}
	u := rowUser(rd.fields, rd.header, rec)
	u.Normalize()
	if err := u.Validate(); err != nil {
		return u, line, strings.ReplaceAll(strings.TrimPrefix(err.Error(), "invalid: "), "\n", "; "), nil
	}
	return u, line, "", nil
}

// nulColumn returns the index of the first field holding a NUL, or -1.
// PostgreSQL cannot store NUL in text, so no field may hold one.
func nulColumn(rec []string) int {
	return slices.IndexFunc(rec, func(v string) bool { return strings.ContainsRune(v, 0) })
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

// duplicates finds a username or email used twice in one file. It keeps a
// 64-bit hash of each key with its first line: a few bytes a row instead of
// the row. The hash is seeded per file, so no file can be made to collide;
// by chance, two keys of a million-row file share one about once in ten
// million files, and that file is refused with a wrong "also on line".
type duplicates struct {
	h     maphash.Hash
	first map[uint64]int
}

func newDuplicates() *duplicates { return &duplicates{first: map[uint64]int{}} }

func (d *duplicates) check(u directory.User, line int, errs *Errors) {
	for _, f := range []struct {
		kind byte
		name string
		v    string
	}{{'u', "username", u.Username}, {'e', "email", u.Email}} {
		if f.v == "" {
			continue
		}
		d.h.Reset()
		_ = d.h.WriteByte(f.kind)
		_, _ = d.h.WriteString(directory.Key(f.v))
		k := d.h.Sum64()
		if first, ok := d.first[k]; ok {
			errs.add(line, "%s %q is also on line %d", f.name, f.v, first)
			continue
		}
		d.first[k] = line
	}
}

// existing checks good rows against the directory a batch at a time.
type existing struct {
	st            store.Store
	errs          *Errors
	names, emails []string
	lines         []int
}

// existingBatch is how many rows one look-up checks.
const existingBatch = 500

func (x *existing) add(ctx context.Context, u directory.User, line int) error {
	x.names, x.emails, x.lines = append(x.names, u.Username), append(x.emails, u.Email), append(x.lines, line)
	if len(x.lines) < existingBatch {
		return nil
	}
	return x.flush(ctx)
}

func (x *existing) flush(ctx context.Context) error {
	if len(x.lines) == 0 {
		return nil
	}
	taken, err := x.st.ExistingUsers(ctx, x.names, x.emails)
	if err != nil {
		return fmt.Errorf("check existing users: %w", err)
	}
	for i, line := range x.lines {
		name, email := taken[directory.Key(x.names[i])], taken[directory.Key(x.emails[i])]
		switch {
		case name && email: // one problem, said once
			x.errs.addConflict(line, "username %q and email %q already exist in the directory (roster users import-csv --update updates existing users)", x.names[i], x.emails[i])
		case name:
			x.errs.addConflict(line, "username %q already exists in the directory (roster users import-csv --update updates existing users)", x.names[i])
		case email:
			x.errs.addConflict(line, "email %q already belongs to a directory user", x.emails[i])
		}
	}
	x.names, x.emails, x.lines = x.names[:0], x.emails[:0], x.lines[:0]
	return nil
}

// Load checks every row of r, then creates every user in one transaction, or
// none, and returns how many it created. r is read once, as it comes: rows
// are checked as they are read and then dropped, and a copy of r goes to a
// temporary file (unless r can seek) from which the second pass stores them,
// so memory does not grow with the file beyond a hash per row. The
// transaction starts only once all of r has arrived and passed.
func Load(ctx context.Context, st store.Store, by store.Actor, r io.Reader) (int, error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		if start, err := rs.Seek(0, io.SeekCurrent); err == nil {
			return load(ctx, st, by, rs, func() (io.Reader, error) {
				_, err := rs.Seek(start, io.SeekStart)
				return rs, err
			})
		}
	}
	spool, err := os.CreateTemp("", "roster-csv-*") // mode 0600: it holds personal data
	if err != nil {
		return 0, fmt.Errorf("spool the CSV: %w", err)
	}
	defer func() {
		_ = spool.Close()
		_ = os.Remove(spool.Name())
	}()
	w := bufio.NewWriterSize(spool, 64<<10)
	return load(ctx, st, by, io.TeeReader(r, w), func() (io.Reader, error) {
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("spool the CSV: %w", err)
		}
		_, err := spool.Seek(0, io.SeekStart)
		return spool, err
	})
}

// load checks r and, when every row passed, stores the rows of again().
func load(ctx context.Context, st store.Store, by store.Actor, r io.Reader, again func() (io.Reader, error)) (int, error) {
	errs := &Errors{}
	x := &existing{st: st, errs: errs}
	if err := scan(r, errs, func(u directory.User, line int) error { return x.add(ctx, u, line) }); err != nil {
		return 0, err
	}
	if err := x.flush(ctx); err != nil {
		return 0, err
	}
	if len(errs.Rows) > 0 {
		errs.sort()
		return 0, errs
	}
	r, err := again()
	if err != nil {
		return 0, fmt.Errorf("read the CSV again: %w", err)
	}
	return st.CreateUsersSeq(ctx, by, users(r))
}

// users yields the users of a CSV that passed scan; a row that fails now is an error.
func users(r io.Reader) iter.Seq2[directory.User, error] {
	return func(yield func(directory.User, error) bool) {
		rd, err := newReader(r)
		if err != nil {
			yield(directory.User{}, err)
			return
		}
		for {
			u, line, problem, err := rd.next()
			if err == io.EOF {
				return
			}
			if err == nil && problem != "" {
				err = fmt.Errorf("%w: line %d: %s", directory.ErrInvalid, line, problem)
			}
			if !yield(u, err) || err != nil {
				return
			}
		}
	}
}
