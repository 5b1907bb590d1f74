package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
)

// SettingKeys lists every setting an admin can set, dotted
// ("deactivation.type"), in the order Settings declares them.
func SettingKeys() []string {
	var keys []string
	walkKeys(reflect.TypeOf(Settings{}), "", func(key string, _ reflect.Type) { keys = append(keys, key) })
	return keys
}

var (
	unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	keyedType       = reflect.TypeOf((*keyed)(nil)).Elem()
)

// keyed is a group of settings with a decoder of its own (budget: auto or a
// number): its keys are named by it, its values judged by its decoder.
type keyed interface{ SubKeys() []string }

// subKeys lists a keyed group's settings, or nil for any other type.
func subKeys(t reflect.Type) []string {
	if !t.Implements(keyedType) {
		return nil
	}
	return reflect.Zero(t).Interface().(keyed).SubKeys()
}

// walkKeys calls leaf for each setting under t, a struct of settings.
func walkKeys(t reflect.Type, prefix string, leaf func(string, reflect.Type)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" {
			continue
		}
		if group(f.Type) {
			walkKeys(f.Type, prefix+name+".", leaf)
			continue
		}
		if subs := subKeys(f.Type); subs != nil {
			for _, sub := range subs {
				leaf(prefix+name+"."+sub, f.Type)
			}
			continue
		}
		leaf(prefix+name, f.Type)
	}
}

// group reports whether t holds settings of its own rather than a value.
func group(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType)
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// MergeSettings applies a JSON object of settings (nested by their dots)
// over s. Each unknown key and each value of the wrong type is named with
// what is allowed, all of them at once; nothing is changed then.
func (s *Settings) MergeSettings(raw []byte) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var in map[string]any
	if err := d.Decode(&in); err != nil {
		return fmt.Errorf("%w: settings must be a JSON object of setting names and values: %v", directory.ErrInvalid, err)
	}
	var errs []error
	checkSettings(reflect.TypeOf(Settings{}), "", in, &errs)
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", directory.ErrInvalid, errors.Join(errs...))
	}
	next := *s
	if err := json.Unmarshal(raw, &next); err != nil {
		// A value checkSettings let through that a setting's own decoder refused.
		return fmt.Errorf("%w: settings: %v", directory.ErrInvalid, plainJSONError(err))
	}
	*s = next
	return nil
}

// checkSettings compares the keys and values of in with the settings of t.
func checkSettings(t reflect.Type, prefix string, in map[string]any, errs *[]error) {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		if name := jsonName(t.Field(i)); name != "" {
			fields[name] = t.Field(i).Type
		}
	}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		key, v := prefix+k, in[k]
		ft, ok := fields[k]
		switch {
		case !ok:
			*errs = append(*errs, fmt.Errorf("unknown setting %q; the settings are: %s", key, strings.Join(keysUnder(t, prefix), ", ")))
		case group(ft):
			sub, isMap := v.(map[string]any)
			if !isMap {
				*errs = append(*errs, fmt.Errorf("setting %q is a group of settings, not a value; set one of: %s", key, strings.Join(keysUnder(ft, key+"."), ", ")))
				continue
			}
			checkSettings(ft, key+".", sub, errs)
		case subKeys(ft) != nil:
			checkKeyed(key, subKeys(ft), v, errs)
		default:
			if want := wrongType(ft, v); want != "" {
				*errs = append(*errs, fmt.Errorf("setting %s must be %s, got %s", key, want, shown(v)))
			}
		}
	}
}

// checkKeyed checks the keys given to a keyed group; its decoder judges the values.
func checkKeyed(key string, subs []string, v any, errs *[]error) {
	names := make([]string, len(subs))
	for i, sub := range subs {
		names[i] = key + "." + sub
	}
	in, isMap := v.(map[string]any)
	if !isMap {
		*errs = append(*errs, fmt.Errorf("setting %q is a group of settings, not a value; set one of: %s", key, strings.Join(names, ", ")))
		return
	}
	for k := range in {
		if !slices.Contains(subs, k) {
			*errs = append(*errs, fmt.Errorf("unknown setting %q; the settings are: %s", key+"."+k, strings.Join(names, ", ")))
		}
	}
}

func keysUnder(t reflect.Type, prefix string) []string {
	var keys []string
	walkKeys(t, prefix, func(key string, _ reflect.Type) { keys = append(keys, key) })
	return keys
}

// wrongType says what a value of type t looks like when v is not one, or "".
func wrongType(t reflect.Type, v any) string {
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return "" // the setting's own decoder judges it
	}
	switch t.Kind() {
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return "true or false"
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n, ok := v.(json.Number); !ok || !isInt(n) {
			return "a whole number"
		}
	case reflect.Float64, reflect.Float32:
		if _, ok := v.(json.Number); !ok {
			return "a number"
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return "text"
		}
	case reflect.Slice:
		l, ok := v.([]any)
		for _, e := range l {
			if _, isStr := e.(string); !isStr {
				ok = false
			}
		}
		if !ok {
			return `a list of names such as ["first_name", "email"]`
		}
	}
	return ""
}

func isInt(n json.Number) bool {
	_, err := n.Int64()
	return err == nil
}

// shown quotes a value as the admin typed it.
func shown(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case json.Number:
		return x.String()
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// plainJSONError drops encoding/json's Go words ("Go struct field").
func plainJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("setting %s cannot be a JSON %s", te.Field, te.Value)
	}
	return err
}
