package scim

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// How a SCIM User maps onto a directory user: userName, emails (the
// primary or work address; one is kept), name.givenName and
// name.familyName are the user's own fields; active is its status; every
// other attribute kept is a profile attribute named by its SCIM URN, such as
// urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department.
// Multi-valued attributes Roster has no use for (phoneNumbers, addresses,
// photos…) and passwords are accepted and not kept.

// coreExtras are the core User attributes kept as profile attributes.
var coreExtras = map[string]string{
	"externalid": "externalId", "displayname": "displayName", "nickname": "nickName", "title": "title",
	"usertype": "userType", "preferredlanguage": "preferredLanguage", "locale": "locale", "timezone": "timezone",
	"profileurl": "profileUrl",
}

// enterpriseAttrs are the enterprise extension's attributes, all kept.
var enterpriseAttrs = map[string]string{
	"employeenumber": "employeeNumber", "costcenter": "costCenter", "organization": "organization",
	"division": "division", "department": "department", "manager": "manager",
}

// ignored are core User attributes accepted and not kept.
var ignored = map[string]bool{
	"phonenumbers": true, "addresses": true, "ims": true, "photos": true, "entitlements": true, "roles": true,
	"x509certificates": true, "password": true, "groups": true, "schemas": true, "id": true, "meta": true,
}

func coreKey(name string) string { return SchemaUser + ":" + name }
func entKey(name string) string  { return SchemaEnterprise + ":" + name }

// middleNameKey keeps name.middleName.
var middleNameKey = coreKey("name.middleName")

// managed reports whether a profile attribute is SCIM's to set: a PUT
// replaces these and leaves the others (an admin's) alone.
func managed(key string) bool {
	return strings.HasPrefix(key, SchemaUser+":") || strings.HasPrefix(key, SchemaEnterprise+":")
}

// userDoc is a User being read or changed.
type userDoc struct {
	userName, email, givenName, familyName string
	active                                 bool
	activeSet                              bool              // the body or an operation set active
	attrs                                  map[string]string // the managed profile attributes, by URN key
}

func docOf(u directory.User) *userDoc {
	d := &userDoc{userName: u.Username, email: u.Email, givenName: u.FirstName, familyName: u.LastName,
		active: u.Status == directory.StatusActive || u.Status == directory.StatusStaged, attrs: map[string]string{}}
	for k, v := range u.Attributes {
		if managed(k) {
			d.attrs[k] = v
		}
	}
	return d
}

// applyTo writes the document onto a directory user: its fields, its
// managed attributes (others kept) and its status, by the source's rule
// for inactive users.
func (d *userDoc) applyTo(u *directory.User, deactivateAs string) error {
	u.Username, u.Email, u.FirstName, u.LastName = d.userName, d.email, d.givenName, d.familyName
	for k := range u.Attributes {
		if managed(k) {
			delete(u.Attributes, k)
		}
	}
	for k, v := range d.attrs {
		if v == "" {
			continue
		}
		if u.Attributes == nil {
			u.Attributes = map[string]string{}
		}
		u.Attributes[k] = v
	}
	if err := service.SetActive(u, d.active, deactivateAs); err != nil {
		return badValue("active: %v", err)
	}
	return nil
}

// set puts one attribute's value (add or replace; v nil removes).
func (d *userDoc) set(op string, p path, v any) error {
	if p.whole {
		return d.setObject(op, v, true)
	}
	if p.enterprise {
		return d.setEnterprise(op, p, v)
	}
	switch p.attr {
	case "username":
		s, err := text(p, v)
		if err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			return errf(400, "invalidValue", "userName is required and cannot be empty")
		}
		d.userName = s
	case "active":
		if v == nil {
			return badValue("active cannot be removed; set it to true or false")
		}
		b, err := boolean(p, v)
		if err != nil {
			return err
		}
		d.active, d.activeSet = b, true
	case "name":
		return d.setName(op, p, v)
	case "emails":
		return d.setEmails(op, p, v)
	case strings.ToLower(SchemaEnterprise):
		return d.setObject(op, v, true)
	default:
		if name, ok := coreExtras[p.attr]; ok {
			s, err := text(p, v)
			if err != nil {
				return err
			}
			d.attrs[coreKey(name)] = s
			return nil
		}
		if ignored[p.attr] {
			return nil
		}
		return badPath("%s is not an attribute of a User here (userName, name, emails, active, displayName, externalId, title, the enterprise extension…)", p.name())
	}
	return nil
}

// setObject applies each member of an object value: a PATCH without a path,
// or the enterprise extension given whole.
func (d *userDoc) setObject(op string, v any, enterprise bool) error {
	m, ok := v.(map[string]any)
	if !ok {
		return badValue("the value must be an object of attributes, got %s", kindOf(v))
	}
	for k, val := range m {
		p, err := parsePath(k)
		if err != nil {
			return err
		}
		if enterprise && !p.whole && !p.enterprise && strings.EqualFold(k, p.attr) {
			p.enterprise = true // a member of the extension object
		}
		if err := d.set(op, p, val); err != nil {
			return err
		}
	}
	return nil
}

func (d *userDoc) setEnterprise(op string, p path, v any) error {
	name, ok := enterpriseAttrs[p.attr]
	if !ok {
		return badPath("%s is not an attribute of the enterprise extension (employeeNumber, costCenter, organization, division, department, manager)", p.name())
	}
	if name == "manager" {
		// manager is complex (value, $ref, displayName); its value, the
		// manager's id, is kept. Entra sends the id as a string.
		switch x := v.(type) {
		case map[string]any:
			mv, _ := get(x, "value")
			v = mv
		default:
			if p.sub != "" && p.sub != "value" {
				return nil // displayName and $ref are the manager's own
			}
		}
	} else if p.sub != "" {
		return badPath("%s has no sub-attribute %s", name, p.sub)
	}
	s, err := text(p, v)
	if err != nil {
		return err
	}
	d.attrs[entKey(name)] = s
	return nil
}

func (d *userDoc) setName(op string, p path, v any) error {
	if p.sub == "" {
		if v == nil {
			d.givenName, d.familyName, d.attrs[middleNameKey] = "", "", ""
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return badValue("name must be an object (givenName, familyName…), got %s", kindOf(v))
		}
		if op == "replace-all" {
			d.givenName, d.familyName, d.attrs[middleNameKey] = "", "", ""
		}
		for k, val := range m {
			if err := d.setName(op, path{attr: "name", sub: strings.ToLower(k), raw: "name." + k}, val); err != nil {
				return err
			}
		}
		return nil
	}
	s, err := text(p, v)
	if err != nil {
		return err
	}
	switch p.sub {
	case "givenname":
		d.givenName = s
	case "familyname":
		d.familyName = s
	case "middlename":
		d.attrs[middleNameKey] = s
	case "formatted", "honorificprefix", "honorificsuffix":
		// formatted is made from the parts; honorifics are not kept.
	default:
		return badPath("name has no sub-attribute %s (givenName, familyName, middleName, formatted)", p.sub)
	}
	return nil
}

// setEmails keeps one address: the primary one, else the work one, else
// the first. A filtered path (emails[type eq "work"].value) sets it when the
// filter matches it (it is the work and primary address); other types are
// not kept.
func (d *userDoc) setEmails(op string, p path, v any) error {
	if p.filter != nil {
		if p.sub != "" && p.sub != "value" {
			return nil // type, primary, display of the one address kept
		}
		ok, err := matches(p.filter, map[string]any{"value": d.email, "type": "work", "primary": true})
		if err != nil || !ok {
			return err
		}
		if p.sub == "" {
			if m, isObj := v.(map[string]any); isObj {
				v, _ = get(m, "value")
			}
		}
		s, err := text(p, v)
		if err != nil {
			return err
		}
		d.email = s
		return nil
	}
	if p.sub == "value" {
		s, err := text(p, v)
		if err != nil {
			return err
		}
		d.email = s
		return nil
	}
	if p.sub != "" {
		return nil
	}
	if v == nil {
		d.email = ""
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	best, rank := "", 0
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return badValue("each of emails must be an object with a value, got %s", kindOf(e))
		}
		val, _ := get(m, "value")
		s, err := text(path{raw: "emails.value"}, val)
		if err != nil {
			return err
		}
		r := 1
		if t, _ := get(m, "type"); t == "work" {
			r = 2
		}
		if pr, _ := get(m, "primary"); pr == true || pr == "true" || pr == "True" {
			r = 3
		}
		if r > rank && s != "" {
			best, rank = s, r
		}
	}
	if op == "add" && best == "" {
		return nil
	}
	d.email = best
	return nil
}

// readUser reads a User body (POST or PUT) into a fresh document: anything
// not given is empty, and active is true unless it says otherwise.
func readUser(body map[string]any) (*userDoc, error) {
	d := &userDoc{active: true, attrs: map[string]string{}}
	for k, v := range body {
		if ignored[strings.ToLower(k)] {
			continue
		}
		p, err := parsePath(k)
		if err != nil {
			continue // an attribute this service does not have: a client's extension, not kept
		}
		if p.whole {
			if err := d.setObject("replace", v, true); err != nil {
				return nil, err
			}
			continue
		}
		if err := d.set("replace", p, v); err != nil {
			var se *Error
			if ok := asError(err, &se); ok && se.ScimType == "invalidPath" {
				continue // likewise
			}
			return nil, err
		}
	}
	if strings.TrimSpace(d.userName) == "" {
		return nil, badValue("userName is required")
	}
	return d, nil
}

// render is the User resource of a directory user.
func render(r *http.Request, u directory.User) map[string]any {
	d := docOf(u)
	res := map[string]any{
		"schemas":  []string{SchemaUser},
		"id":       u.ExternalKey,
		"userName": u.Username,
		"active":   d.active,
		"meta": map[string]any{"resourceType": "User", "created": u.CreatedAt.Format(timeFormat),
			"lastModified": u.UpdatedAt.Format(timeFormat), "location": location(r, "Users", u.ExternalKey),
			"version": `W/"` + strconv.FormatInt(u.UpdatedAt.UnixNano(), 36) + `"`},
	}
	name := map[string]any{}
	if u.FirstName != "" {
		name["givenName"] = u.FirstName
	}
	if u.LastName != "" {
		name["familyName"] = u.LastName
	}
	if m := d.attrs[middleNameKey]; m != "" {
		name["middleName"] = m
	}
	if f := strings.TrimSpace(u.FirstName + " " + u.LastName); f != "" {
		name["formatted"] = f
	}
	if len(name) > 0 {
		res["name"] = name
	}
	if u.Email != "" {
		res["emails"] = []any{map[string]any{"value": u.Email, "type": "work", "primary": true}}
	}
	for _, n := range coreExtras {
		if v := d.attrs[coreKey(n)]; v != "" {
			res[n] = v
		}
	}
	ent := map[string]any{}
	for _, n := range enterpriseAttrs {
		v := d.attrs[entKey(n)]
		switch {
		case v == "":
		case n == "manager":
			ent[n] = map[string]any{"value": v}
		default:
			ent[n] = v
		}
	}
	if len(ent) > 0 {
		res[SchemaEnterprise] = ent
		res["schemas"] = []string{SchemaUser, SchemaEnterprise}
	}
	return res
}

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// newUser is the directory user a POST makes.
func newUser(d *userDoc, src store.Source) (directory.User, error) {
	u := directory.User{Status: directory.StatusActive}
	if err := d.applyTo(&u, src.Settings.DeactivateAs); err != nil {
		return u, err
	}
	if !d.active {
		u.Status = directory.StatusDeprovisioned
		if src.Settings.DeactivateAs == store.DeactivateAsSuspend {
			u.Status = directory.StatusSuspended
		}
	}
	return u, nil
}

func asError(err error, target **Error) bool {
	se, ok := err.(*Error)
	if ok {
		*target = se
	}
	return ok
}
