package lint

import (
	"fmt"
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"strings"
)

// The message rule: no value posted between loops carries a function, so
// that a request to a loop of another node is a change of address, not of
// code. A message is any type of the checked package with a `Kind() string`
// method (runtime.Msg). Its fields are walked through named types of the
// checked packages, pointers, slices, arrays and maps; a func or chan type
// breaks the rule, and so does an empty interface (any): what it may hold
// cannot be checked. A field of a named interface type is checked through
// every type of the package that implements the interface's methods, so a
// vocabulary of closed interfaces (a query, a result) stays checkable.
// `error` fields are allowed: errors are values.

// Source is the parsed files of one package, by import path.
type Source struct {
	Path  string
	Files []*ast.File
}

// CheckMessages reports every message type of pkg (whose types may refer to
// those of deps) that carries a function, except the types named in exempt.
func CheckMessages(fset *token.FileSet, pkg Source, deps []Source, exempt []string) []Violation {
	c := newMsgChecker(fset, pkg, deps)
	var out []Violation
	for _, name := range c.messages(pkg.Path) {
		if slices.Contains(exempt, name) {
			continue
		}
		spec := c.types[pkg.Path][name]
		seen := map[string]bool{}
		for _, why := range c.walk(pkg.Path, c.fileOf[spec], spec.Type, name, seen) {
			out = append(out, Violation{Pos: fset.Position(spec.Pos()), Rule: fmt.Sprintf("message %s carries %s: messages between loops are values", name, why)})
		}
	}
	return out
}

// MessageTypes names the message types of pkg, sorted: what CheckMessages
// checks.
func MessageTypes(fset *token.FileSet, pkg Source, deps []Source) []string {
	return newMsgChecker(fset, pkg, deps).messages(pkg.Path)
}

func newMsgChecker(fset *token.FileSet, pkg Source, deps []Source) *msgChecker {
	c := &msgChecker{fset: fset, types: map[string]map[string]*ast.TypeSpec{}, methods: map[string]map[string][]string{}}
	for _, s := range append([]Source{pkg}, deps...) {
		c.index(s)
	}
	return c
}

// messages names the types of package path with a Kind method, sorted.
func (c *msgChecker) messages(path string) []string {
	var out []string
	for _, name := range sortedKeys(c.types[path]) {
		if slices.Contains(c.methods[path][name], "Kind") {
			out = append(out, name)
		}
	}
	return out
}

type msgChecker struct {
	fset *token.FileSet
	// types and methods index every package's type declarations and the
	// method names declared on each type (value or pointer receiver).
	types   map[string]map[string]*ast.TypeSpec
	methods map[string]map[string][]string
	// imports maps, per file, a local import name to its path.
	imports map[*ast.File]map[string]string
	fileOf  map[*ast.TypeSpec]*ast.File
}

func (c *msgChecker) index(s Source) {
	if c.imports == nil {
		c.imports, c.fileOf = map[*ast.File]map[string]string{}, map[*ast.TypeSpec]*ast.File{}
	}
	types, methods := map[string]*ast.TypeSpec{}, map[string][]string{}
	for _, f := range s.Files {
		c.imports[f] = fileImports(f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					if ts, ok := sp.(*ast.TypeSpec); ok {
						types[ts.Name.Name] = ts
						c.fileOf[ts] = f
					}
				}
			case *ast.FuncDecl:
				if recv := receiverName(d); recv != "" {
					methods[recv] = append(methods[recv], d.Name.Name)
				}
			}
		}
	}
	c.types[s.Path], c.methods[s.Path] = types, methods
}

// walk returns why the type expression t (in package pkg, reached through
// the field path at) carries a function, if it does.
func (c *msgChecker) walk(pkg string, file *ast.File, t ast.Expr, at string, seen map[string]bool) []string {
	switch t := t.(type) {
	case *ast.FuncType:
		return []string{"a func at " + at}
	case *ast.ChanType:
		return []string{"a chan at " + at}
	case *ast.StarExpr:
		return c.walk(pkg, file, t.X, at, seen)
	case *ast.ArrayType:
		return c.walk(pkg, file, t.Elt, at+"[]", seen)
	case *ast.MapType:
		return append(c.walk(pkg, file, t.Key, at+"[key]", seen), c.walk(pkg, file, t.Value, at+"[value]", seen)...)
	case *ast.StructType:
		var out []string
		for _, f := range t.Fields.List {
			name := "(embedded)"
			if len(f.Names) > 0 {
				name = f.Names[0].Name
			}
			out = append(out, c.walk(pkg, file, f.Type, at+"."+name, seen)...)
		}
		return out
	case *ast.InterfaceType:
		if len(t.Methods.List) == 0 {
			return []string{"an empty interface (any) at " + at}
		}
		return nil // an unnamed interface with methods: none in the vocabulary
	case *ast.Ident:
		return c.named(pkg, t.Name, at, seen)
	case *ast.SelectorExpr:
		return c.selector(file, t, at, seen)
	case *ast.IndexExpr, *ast.IndexListExpr:
		return []string{"a generic type at " + at + " (not checked)"}
	}
	return nil
}

func (c *msgChecker) selector(file *ast.File, t *ast.SelectorExpr, at string, seen map[string]bool) []string {
	id, ok := t.X.(*ast.Ident)
	if !ok {
		return nil
	}
	path := c.imports[file][id.Name]
	if path == "" {
		return nil
	}
	if _, known := c.types[path]; !known {
		if isStd(path) {
			return nil // the standard library's value types (time.Duration…)
		}
		return []string{fmt.Sprintf("%s.%s at %s, a type of an unchecked package", id.Name, t.Sel.Name, at)}
	}
	return c.named(path, t.Sel.Name, at, seen)
}

// named follows a named type of package path.
func (c *msgChecker) named(path, name, at string, seen map[string]bool) []string {
	if name == "any" {
		return []string{"an empty interface (any) at " + at}
	}
	spec, ok := c.types[path][name]
	if !ok {
		return nil // a predeclared type (int, string, error…)
	}
	key := path + "." + name
	if seen[key] {
		return nil
	}
	seen[key] = true
	if it, ok := spec.Type.(*ast.InterfaceType); ok && len(it.Methods.List) > 0 {
		var out []string
		for _, impl := range c.implementers(path, it) {
			spec := c.types[path][impl]
			out = append(out, c.walk(path, c.fileOf[spec], spec.Type, at+"("+impl+")", seen)...)
		}
		return out
	}
	return c.walk(path, c.fileOf[spec], spec.Type, at, seen)
}

// implementers are the types of path that declare every method of it.
func (c *msgChecker) implementers(path string, it *ast.InterfaceType) []string {
	var want []string
	for _, m := range it.Methods.List {
		for _, n := range m.Names {
			want = append(want, n.Name)
		}
	}
	var out []string
	for _, name := range sortedKeys(c.types[path]) {
		if len(want) > 0 && containsAll(c.methods[path][name], want) {
			out = append(out, name)
		}
	}
	return out
}

func receiverName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return ""
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func fileImports(f *ast.File) map[string]string {
	out := map[string]string{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		out[name] = path
	}
	return out
}

func isStd(path string) bool { return !strings.Contains(strings.SplitN(path, "/", 2)[0], ".") }

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
