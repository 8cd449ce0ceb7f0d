package web

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// typeSchema describes a Go type as its JSON encoding looks, so response
// schemas follow the structs the handlers write instead of being kept by
// hand: fields by their json tags (omitempty/omitzero fields not
// required, an embedded struct's fields shadowed by the outer ones, as
// encoding/json does), times as date-time strings, raw JSON as anything.
func typeSchema(t reflect.Type) map[string]any {
	switch {
	case t == reflect.TypeOf(time.Time{}):
		return map[string]any{"type": "string", "format": "date-time"}
	case t == reflect.TypeOf(time.Duration(0)):
		return map[string]any{"type": "integer", "description": "nanoseconds"}
	case t == reflect.TypeOf(json.RawMessage(nil)):
		return map[string]any{"description": "any JSON value"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := typeSchema(t.Elem())
		s["nullable"] = true
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": typeSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem())}
	case reflect.Struct:
		props, required := map[string]any{}, []string{}
		addFields(t, props, &required, map[string]bool{})
		out := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			out["required"] = required
		}
		return out
	}
	return map[string]any{}
}

// addFields adds t's JSON fields; names already taken by a shallower
// field are skipped (encoding/json's rule for embedded structs).
func addFields(t reflect.Type, props map[string]any, required *[]string, taken map[string]bool) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			embedded = append(embedded, et)
			continue
		}
		if name == "" {
			name = f.Name
		}
		taken[name] = true
		props[name] = typeSchema(f.Type)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
	for _, et := range embedded {
		sub := map[string]any{}
		var subReq []string
		addFields(et, sub, &subReq, map[string]bool{})
		for name, s := range sub {
			if !taken[name] {
				taken[name] = true
				props[name] = s
			}
		}
		for _, name := range subReq {
			if _, ok := props[name]; ok && !contains(*required, name) {
				if sub[name] != nil && props[name] != nil && reflect.DeepEqual(sub[name], props[name]) {
					*required = append(*required, name)
				}
			}
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func schemaOf(v any) map[string]any { return typeSchema(reflect.TypeOf(v)) }

// withProps returns an object schema of the given properties; required
// lists those every answer carries.
func withProps(props map[string]any, required ...string) map[string]any {
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func arrayOf(s map[string]any) map[string]any { return map[string]any{"type": "array", "items": s} }

// documentResources fills in the schemas of the routes outside trends and
// ingest, from the types their handlers write.
func documentResources(schemas map[string]any) {
	str, integer := map[string]any{"type": "string"}, map[string]any{"type": "integer"}
	page := func(name string, items map[string]any) map[string]any {
		return withProps(map[string]any{name: arrayOf(items), "limit": integer, "offset": integer,
			"next_offset": map[string]any{"type": "integer", "nullable": true, "description": "offset of the next page; null on the last"}}, name, "limit", "offset")
	}
	schemas["Status"] = withProps(map[string]any{"status": map[string]any{"type": "string", "enum": []string{"ok", "ready"}}}, "status")
	schemas["Me"] = withProps(map[string]any{"name": str, "role": str, "permissions": arrayOf(str)}, "name", "role", "permissions")
	schemas["Fact"] = schemaOf(factOut{})
	schemas["FactInput"] = schemaOf(schema.Fact{})
	schemas["Facts"] = page("facts", ref("Fact"))
	schemas["Accepted"] = withProps(map[string]any{
		"accepted": map[string]any{"type": "integer", "description": "facts accepted"},
		"ids":      arrayOf(str),
		"errors": arrayOf(withProps(map[string]any{
			"index":   map[string]any{"type": "integer", "description": "the fact's place in the request's array (POST, PUT)"},
			"record":  map[string]any{"type": "integer", "description": "the file's record number (import)"},
			"code":    map[string]any{"type": "string", "description": "invalid_fact (POST, PUT)"},
			"message": str}, "message")),
		"appearances": map[string]any{"type": "integer", "description": "the fact's known appearances after this one"},
	}, "accepted")
	schemas["Deleted"] = withProps(map[string]any{"deleted": str}, "deleted")
	schemas["Source"] = schemaOf(schema.Source{})
	schemas["Sources"] = withProps(map[string]any{"sources": arrayOf(schemaOf(sourceJSON{}))}, "sources")
	schemas["Cases"] = page("cases", schemaOf(caseJSON{}))
	schemas["Case"] = withProps(map[string]any{"case": schemaOf(caseJSON{}), "history": arrayOf(withProps(map[string]any{
		"time": map[string]any{"type": "string", "format": "date-time"}, "actor": str, "action": str, "detail": str}, "time", "actor", "action"))}, "case", "history")
	schemas["CaseCommand"] = withProps(map[string]any{"actor": str, "until": map[string]any{"type": "string", "format": "date-time", "description": "snooze: until when"},
		"note": str, "url": map[string]any{"type": "string", "description": "response: the published answer"}})
	schemas["CaseCommandSent"] = withProps(map[string]any{"case_id": str, "command": schemaOf(schema.CaseCommand{})}, "case_id", "command")
	schemas["Thresholds"] = withProps(map[string]any{"thresholds": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "number"}}}, "thresholds")
	schemas["Routes"] = withProps(map[string]any{"routes": map[string]any{"description": "the routing configuration in force (--alert-routes), or null for every channel", "nullable": true}}, "routes")
	schemas["User"] = schemaOf(userJSON{})
	schemas["Users"] = withProps(map[string]any{"users": arrayOf(ref("User"))}, "users")
	schemas["UserInput"] = withProps(map[string]any{"name": str, "role": str, "password": str, "disabled": map[string]any{"type": "boolean"}}, "name", "role")
	schemas["Token"] = schemaOf(tokenJSON{})
	schemas["Tokens"] = withProps(map[string]any{"tokens": arrayOf(ref("Token"))}, "tokens")
	schemas["TokenInput"] = withProps(map[string]any{"label": str, "role": str, "ttl": map[string]any{"type": "string", "description": "lifetime, e.g. 720h; empty for none"}}, "label", "role")
	schemas["NewToken"] = withProps(map[string]any{"token": map[string]any{"type": "string", "description": "the secret, shown once"}, "info": ref("Token")}, "token", "info")
	schemas["Revoked"] = withProps(map[string]any{"revoked": str}, "revoked")
	schemas["Document"] = map[string]any{"type": "object", "description": "an OpenAPI 3 document"}
}
