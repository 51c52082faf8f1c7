package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"parley/internal/entry"
	ptlog "parley/internal/tlog"
)

// openapiOp is the part of an OpenAPI operation the test reads.
type openapiOp struct {
	Access     string           `json:"x-parley-access"`
	Parameters []openapiParam   `json:"parameters"`
	Responses  map[string]any   `json:"responses"`
	Security   []map[string]any `json:"security"`
}

type openapiParam struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
	Schema   any    `json:"schema"`
}

// openapiMethods are the operation keys of an OpenAPI path item.
var openapiMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// pathParam finds the {name} and {name...} wildcards of a ServeMux pattern.
var pathParam = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}`)

// TestOpenAPI holds openapi.json and routes() together, both ways: every
// route is documented with its access level and path parameters, and every
// documented operation is a route.
func TestOpenAPI(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi is %q, want 3.1.0", doc.OpenAPI)
	}

	ls := startLive(t, Options{}, false)
	routes := ls.srv.routes()

	// Every route is documented.
	documented := map[string]bool{} // "get /path"
	for _, rt := range routes {
		method, pattern, ok := strings.Cut(rt.pattern, " ")
		if !ok {
			t.Errorf("route %q has no method", rt.pattern)
			continue
		}
		path := pathParam.ReplaceAllString(pattern, "{$1}")
		key := strings.ToLower(method) + " " + path
		if documented[key] {
			t.Errorf("route %s is listed twice", rt.pattern)
		}
		documented[key] = true
		item, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s: openapi.json has no path %s", rt.pattern, path)
			continue
		}
		rawOp, ok := item[strings.ToLower(method)]
		if !ok {
			t.Errorf("route %s: openapi.json has no %s operation on %s", rt.pattern, strings.ToLower(method), path)
			continue
		}
		var op openapiOp
		if err := json.Unmarshal(rawOp, &op); err != nil {
			t.Errorf("route %s: operation: %v", rt.pattern, err)
			continue
		}
		if op.Access != rt.access.String() {
			t.Errorf("route %s: x-parley-access is %q, want %q", rt.pattern, op.Access, rt.access.String())
		}
		var itemParams []openapiParam
		if p, ok := item["parameters"]; ok {
			if err := json.Unmarshal(p, &itemParams); err != nil {
				t.Errorf("path %s: parameters: %v", path, err)
			}
		}
		params := append(slices.Clone(op.Parameters), itemParams...)
		for _, m := range pathParam.FindAllStringSubmatch(pattern, -1) {
			name := m[1]
			i := slices.IndexFunc(params, func(p openapiParam) bool { return p.Name == name && p.In == "path" })
			switch {
			case i < 0:
				t.Errorf("route %s: path parameter %s is not documented", rt.pattern, name)
			case !params[i].Required || params[i].Schema == nil:
				t.Errorf("route %s: path parameter %s must be required and have a schema", rt.pattern, name)
			}
		}
		for _, p := range params {
			if p.In == "path" && !strings.Contains(path, "{"+p.Name+"}") {
				t.Errorf("route %s: documents path parameter %s, which the path has not", rt.pattern, p.Name)
			}
		}
		checkResponses(t, rt, op)
	}

	// Every documented operation is a route.
	for path, item := range doc.Paths {
		for key := range item {
			switch {
			case slices.Contains(openapiMethods, key):
				if !documented[key+" "+path] {
					t.Errorf("openapi.json documents %s %s, which is not a route", strings.ToUpper(key), path)
				}
			case key == "parameters" || key == "summary" || key == "description" || strings.HasPrefix(key, "x-"):
			default:
				t.Errorf("openapi.json: path %s has an unknown member %q", path, key)
			}
		}
	}

	// Every $ref resolves within the document.
	for _, m := range regexp.MustCompile(`"\$ref":\s*"#/components/([A-Za-z]+)/([A-Za-z0-9_.-]+)"`).FindAllStringSubmatch(string(raw), -1) {
		if _, ok := doc.Components[m[1]][m[2]]; !ok {
			t.Errorf("openapi.json: $ref #/components/%s/%s does not resolve", m[1], m[2])
		}
	}
	for _, name := range []string{"bearerToken", "sessionCookie", "csrfToken"} {
		if _, ok := doc.Components["securitySchemes"][name]; !ok {
			t.Errorf("openapi.json: no security scheme %s", name)
		}
	}

	checkSchemas(t, doc.Components["schemas"])

	// The server serves the document as it is in the tree.
	r := ls.do(call{method: "GET", path: "/api/v1/openapi.json"}).want(t, http.StatusOK, "GET /api/v1/openapi.json")
	if !bytes.Equal(r.body, raw) {
		t.Errorf("GET /api/v1/openapi.json differs from openapi.json")
	}
}

// checkResponses checks an operation has a success response, that its
// errors are problem details, that those who must sign in are told 401/403
// can happen, and that its security matches its access.
func checkResponses(t *testing.T, rt route, op openapiOp) {
	t.Helper()
	success := false
	for code, r := range op.Responses {
		if strings.HasPrefix(code, "2") {
			success = true
			continue
		}
		b, _ := json.Marshal(r)
		if !strings.Contains(string(b), "#/components/responses/") && !strings.Contains(string(b), "application/problem+json") {
			t.Errorf("route %s: response %s is not a problem detail", rt.pattern, code)
		}
	}
	if !success {
		t.Errorf("route %s: no success response", rt.pattern)
	}
	if rt.access != public {
		for _, code := range []string{"401", "403"} {
			if _, ok := op.Responses[code]; !ok {
				t.Errorf("route %s (%s): response %s is not documented", rt.pattern, rt.access, code)
			}
		}
		if len(op.Security) == 0 {
			t.Errorf("route %s (%s): no security requirement", rt.pattern, rt.access)
		}
	} else if len(op.Security) != 0 {
		t.Errorf("route %s is public but documents a security requirement", rt.pattern)
	}
}

// documentedTypes maps the document's schemas to the Go types the server
// decodes or encodes, whose JSON members they must list.
var documentedTypes = map[string]any{
	"Problem":          Problem{},
	"SignedEntry":      signedJSON{},
	"Batch":            BatchJSON{},
	"EntryJSON":        EntryJSON{},
	"EntryList":        EntryList{},
	"Appended":         Appended{},
	"AppendResult":     AppendResult{},
	"Checkpoint":       CheckpointJSON{},
	"InclusionProof":   ptlog.InclusionProof{},
	"ConsistencyProof": ptlog.ConsistencyProof{},
	"Entry":            entry.Entry{},
	"Source":           entry.Source{},
	"EntryType":        TypeJSON{},
	"Key":              KeyJSON{},
	"Account":          AccountJSON{},
	"Session":          SessionJSON{},
	"Me":               MeJSON{},
	"Token":            TokenJSON{},
	"SignIn":           SignIn{},
	"PasswordChange":   PasswordChange{},
	"RecipientChange":  RecipientJSON{},
	"KeyRegistration":  KeyRegistration{},
	"TokenRequest":     TokenRequest{},
	"NewAccount":       NewAccount{},
	"AccountChange":    AccountChange{},
	"NewChannel":       NewChannel{},
	"NewMember":        NewMember{},
	"Channel":          ChannelJSON{},
	"ChannelMember":    MemberJSON{},
	"NewSealed":        SealedPost{},
	"SealedPosted":     SealedPosted{},
	"SealedEntry":      SealedJSON{},
}

// checkSchemas checks each schema of documentedTypes lists exactly the JSON
// members of its Go type, and that request bodies, which the server decodes
// rejecting unknown members, say additionalProperties: false.
func checkSchemas(t *testing.T, schemas map[string]json.RawMessage) {
	t.Helper()
	for name, v := range documentedTypes {
		raw, ok := schemas[name]
		if !ok {
			t.Errorf("openapi.json has no schema %s", name)
			continue
		}
		var sch struct {
			Properties           map[string]any `json:"properties"`
			AdditionalProperties *bool          `json:"additionalProperties"`
		}
		if err := json.Unmarshal(raw, &sch); err != nil {
			t.Errorf("schema %s: %v", name, err)
			continue
		}
		var documented []string
		for p := range sch.Properties {
			documented = append(documented, p)
		}
		slices.Sort(documented)
		if fields := jsonFields(reflect.TypeOf(v)); !slices.Equal(documented, fields) {
			t.Errorf("schema %s has %v; %T has %v", name, documented, v, fields)
		}
	}
	for _, name := range []string{"SignedEntry", "Batch", "Entry", "Source", "SignIn", "PasswordChange", "RecipientChange",
		"KeyRegistration", "TokenRequest", "NewAccount", "AccountChange", "NewChannel", "NewMember", "NewSealed"} {
		var sch struct {
			AdditionalProperties *bool `json:"additionalProperties"`
		}
		json.Unmarshal(schemas[name], &sch)
		if sch.AdditionalProperties == nil || *sch.AdditionalProperties {
			t.Errorf("schema %s: the server rejects unknown members; say additionalProperties: false", name)
		}
	}
}

// jsonFields returns the JSON member names of a struct type, sorted.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
