package lint

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"strings"
)

// The map-order rule: Go randomizes the order of a range over a map, so a
// loop over one must not let that order reach what the core does (its
// effects, traces and answers). A range over a map, or over maps.Keys,
// maps.Values or maps.All of one, is allowed only when
//
//   - it ranges over slices.Sorted(maps.Keys(m)) (that is a slice: nothing
//     to check), or
//   - its body only accumulates results that do not depend on the order:
//     sums, counts and other commutative updates of numbers (x += e, x++,
//     x |= e, …), delete(m, k), inserting into a map (m2[k] = v), setting a
//     variable to a constant (found = true), appending to a slice that a
//     statement right after the loop sorts, declaring locals, and if,
//     switch and nested loops made of the same; an early exit (break,
//     return) only when nothing but constants was set; or
//   - the line of the for statement, or the line above it, says why the
//     order cannot reach output: //lint:maporder order-free: <reason>.
//
// Expressions in such a body may call only builtins, conversions and the
// side-effect-free functions of a few standard packages (pureFuncs);
// anything else is reported, and so is every other statement.

// allowMapOrder is the comment that exempts one loop; a reason must follow.
const allowMapOrder = "//lint:maporder order-free:"

// pureFuncs are the packages (and, for fmt, the functions) whose calls
// have no effect but their result.
var pureFuncs = map[string]func(name string) bool{
	"strings": func(n string) bool { return n != "NewReplacer" },
	"bytes": func(n string) bool {
		return n == "Equal" || n == "Compare" || n == "HasPrefix" || n == "HasSuffix" || n == "Contains"
	},
	"slices": func(n string) bool {
		return n == "Contains" || n == "ContainsFunc" || n == "Index" || n == "IndexFunc" || n == "Equal" || n == "Max" || n == "Min"
	},
	"maps":         func(n string) bool { return n == "Equal" },
	"cmp":          func(string) bool { return true },
	"math":         func(string) bool { return true },
	"math/bits":    func(string) bool { return true },
	"unicode":      func(string) bool { return true },
	"unicode/utf8": func(string) bool { return true },
	"strconv":      func(n string) bool { return !strings.HasPrefix(n, "Append") },
	"fmt":          func(n string) bool { return n == "Sprint" || n == "Sprintf" || n == "Sprintln" },
}

// sortFuncs sort their first argument in place.
var sortFuncs = map[string]bool{
	"slices.Sort": true, "slices.SortFunc": true, "slices.SortStableFunc": true,
	"sort.Slice": true, "sort.SliceStable": true, "sort.Strings": true, "sort.Ints": true,
	"sort.Float64s": true, "sort.Sort": true, "sort.Stable": true,
}

// ExportImporter imports packages from the compiler's export data, as `go
// list -export` names it: exports maps an import path to its file.
func ExportImporter(fset *token.FileSet, exports map[string]string) types.Importer {
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
}

// TypeCheck type-checks the files of one package, importing what they
// import through imp, and returns the types the map-order rule needs.
func TypeCheck(fset *token.FileSet, path string, files []*ast.File, imp types.Importer) (*types.Info, error) {
	info := &types.Info{
		Types: map[ast.Expr]types.TypeAndValue{},
		Uses:  map[*ast.Ident]types.Object{},
		Defs:  map[*ast.Ident]types.Object{},
	}
	conf := types.Config{Importer: imp}
	if _, err := conf.Check(path, fset, files, info); err != nil {
		return nil, err
	}
	return info, nil
}

// CheckMapOrder reports every range over a map in files (type-checked into
// info) that is neither of an allowed form nor explained by an allow
// comment.
func CheckMapOrder(fset *token.FileSet, files []*ast.File, info *types.Info) []Violation {
	var out []Violation
	for _, f := range files {
		allowed := map[int]string{} // line → the reason its allow comment gives
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if reason, ok := strings.CutPrefix(c.Text, allowMapOrder); ok {
					allowed[fset.Position(c.Pos()).Line] = strings.TrimSpace(reason)
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			block, ok := n.(*ast.BlockStmt)
			if !ok {
				if cc, ok := n.(*ast.CaseClause); ok {
					block = &ast.BlockStmt{List: cc.Body}
				} else if cc, ok := n.(*ast.CommClause); ok {
					block = &ast.BlockStmt{List: cc.Body}
				} else {
					return true
				}
			}
			for i, s := range block.List {
				for {
					l, ok := s.(*ast.LabeledStmt)
					if !ok {
						break
					}
					s = l.Stmt
				}
				r, ok := s.(*ast.RangeStmt)
				if !ok || !rangesOverMap(info, r.X) {
					continue
				}
				line := fset.Position(r.Pos()).Line
				reason, hasLine := allowed[line]
				if !hasLine {
					reason, hasLine = allowed[line-1]
				}
				if hasLine {
					if reason == "" {
						out = append(out, Violation{Pos: fset.Position(r.Pos()), Rule: "map order: an allow comment must say why the order cannot reach output"})
					}
					continue
				}
				c := &orderFree{info: info}
				why := c.stmts(r.Body.List)
				if why == "" && c.exits && c.effects {
					why = "it stops early, so which elements it saw depends on the order"
				}
				if why == "" {
					why = c.unsorted(block.List[i+1:])
				}
				if why != "" {
					out = append(out, Violation{Pos: fset.Position(r.Pos()), Rule: fmt.Sprintf(
						"map order: range over %s: %s; range over slices.Sorted(maps.Keys(...)), or say why with %s <reason>",
						types.ExprString(r.X), why, allowMapOrder)})
				}
			}
			return true
		})
	}
	return out
}

// rangesOverMap reports whether x is a map or maps.Keys, maps.Values or
// maps.All of one.
func rangesOverMap(info *types.Info, x ast.Expr) bool {
	if tv, ok := info.Types[x]; ok {
		if _, isMap := tv.Type.Underlying().(*types.Map); isMap {
			return true
		}
	}
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return false
	}
	pkg, name := funcOf(info, call)
	return pkg == "maps" && (name == "Keys" || name == "Values" || name == "All")
}

// funcOf names the package-level function call calls, or "" if it calls
// something else.
func funcOf(info *types.Info, call *ast.CallExpr) (pkg, name string) {
	var id *ast.Ident
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	case *ast.IndexExpr: // an explicit instantiation
		return funcOf(info, &ast.CallExpr{Fun: f.X})
	default:
		return "", ""
	}
	fn, ok := info.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Type().(*types.Signature).Recv() != nil {
		return "", ""
	}
	return fn.Pkg().Path(), fn.Name()
}

// orderFree judges a loop body: whether what it does is the same in any
// order of the elements.
type orderFree struct {
	info *types.Info
	// appended are the slices the body appends to; each must be sorted
	// right after the loop.
	appended []string
	// exits: the body may leave the loop early (break, return); effects: it
	// did something other than set constants.
	exits, effects bool
	loops          int // depth of nested loops and switches (a break there stays there)
}

func (c *orderFree) stmts(list []ast.Stmt) string {
	for _, s := range list {
		if why := c.stmt(s); why != "" {
			return why
		}
	}
	return ""
}

func (c *orderFree) stmt(s ast.Stmt) string {
	switch s := s.(type) {
	case nil, *ast.EmptyStmt:
		return ""
	case *ast.BlockStmt:
		return c.stmts(s.List)
	case *ast.LabeledStmt:
		return c.stmt(s.Stmt)
	case *ast.AssignStmt:
		return c.assign(s)
	case *ast.IncDecStmt:
		c.effects = true
		if !c.numeric(s.X) {
			return types.ExprString(s.X) + s.Tok.String() + " on a non-number"
		}
		return c.pure(s.X)
	case *ast.ExprStmt:
		if call, ok := s.X.(*ast.CallExpr); ok && c.builtin(call) == "delete" {
			c.effects = true
			return c.pure(call.Args...)
		}
		return "it calls " + types.ExprString(s.X) + " in map order"
	case *ast.DeclStmt:
		gd, ok := s.Decl.(*ast.GenDecl)
		if !ok {
			return "a declaration"
		}
		for _, spec := range gd.Specs {
			if vs, ok := spec.(*ast.ValueSpec); ok {
				if why := c.pure(vs.Values...); why != "" {
					return why
				}
			}
		}
		return ""
	case *ast.IfStmt:
		return cmp.Or(c.stmt(s.Init), c.pure(s.Cond), c.stmt(s.Body), c.stmt(s.Else))
	case *ast.SwitchStmt:
		c.loops++
		defer func() { c.loops-- }()
		why := cmp.Or(c.stmt(s.Init), c.pure(s.Tag))
		for _, cl := range s.Body.List {
			cc := cl.(*ast.CaseClause)
			why = cmp.Or(why, c.pure(cc.List...), c.stmts(cc.Body))
		}
		return why
	case *ast.RangeStmt:
		c.loops++
		defer func() { c.loops-- }()
		if s.Tok == token.ASSIGN {
			return "a nested range assigns to variables outside it"
		}
		return cmp.Or(c.pure(s.X), c.stmt(s.Body))
	case *ast.ForStmt:
		c.loops++
		defer func() { c.loops-- }()
		return cmp.Or(c.stmt(s.Init), c.pure(s.Cond), c.stmt(s.Post), c.stmt(s.Body))
	case *ast.BranchStmt:
		switch {
		case s.Tok == token.CONTINUE && s.Label == nil:
			return ""
		case s.Tok == token.BREAK && s.Label == nil:
			if c.loops == 0 {
				c.exits = true
			}
			return ""
		}
		return "a " + s.Tok.String() + " with a label"
	case *ast.SendStmt:
		return "it sends on a channel in map order"
	case *ast.ReturnStmt:
		for _, r := range s.Results {
			if !c.constant(r) {
				return "it returns " + types.ExprString(r) + ", chosen in map order"
			}
		}
		c.exits = true
		return ""
	}
	return fmt.Sprintf("a %T", s)
}

func (c *orderFree) assign(s *ast.AssignStmt) string {
	switch s.Tok {
	case token.DEFINE: // locals of one iteration
		return c.pure(s.Rhs...)
	case token.ADD_ASSIGN, token.SUB_ASSIGN, token.MUL_ASSIGN, token.OR_ASSIGN, token.AND_ASSIGN, token.XOR_ASSIGN:
		c.effects = true
		if !c.numeric(s.Lhs[0]) {
			return types.ExprString(s.Lhs[0]) + " " + s.Tok.String() + " on a non-number depends on the order"
		}
		return c.pure(s.Lhs[0], s.Rhs[0])
	case token.ASSIGN:
	default:
		return "assignment " + s.Tok.String()
	}
	if len(s.Lhs) != len(s.Rhs) {
		return "a multi-value assignment"
	}
	for i, lhs := range s.Lhs {
		rhs := s.Rhs[i]
		if why := c.pure(lhs, rhs); why != "" {
			return why
		}
		if id, ok := lhs.(*ast.Ident); ok && id.Name == "_" {
			continue
		}
		if ix, ok := lhs.(*ast.IndexExpr); ok && c.isMap(ix.X) {
			c.effects = true // inserting into a map
			continue
		}
		if call, ok := rhs.(*ast.CallExpr); ok && c.builtin(call) == "append" && len(call.Args) > 0 &&
			types.ExprString(call.Args[0]) == types.ExprString(lhs) {
			c.effects = true
			c.appended = append(c.appended, types.ExprString(lhs))
			continue
		}
		if c.constant(rhs) {
			continue
		}
		return "it assigns " + types.ExprString(lhs) + " = " + types.ExprString(rhs) + ", so the last element in map order wins"
	}
	return ""
}

// unsorted checks that every slice the body appended to is sorted by the
// statements right after the loop.
func (c *orderFree) unsorted(after []ast.Stmt) string {
	sorted := map[string]bool{}
	for _, s := range after {
		es, ok := s.(*ast.ExprStmt)
		if !ok {
			break
		}
		call, ok := ast.Unparen(es.X).(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			break
		}
		pkg, name := funcOf(c.info, call)
		if !sortFuncs[pkg+"."+name] {
			break
		}
		sorted[types.ExprString(call.Args[0])] = true
	}
	for _, a := range c.appended {
		if !sorted[a] {
			return "it appends to " + a + ", which is not sorted right after the loop"
		}
	}
	return ""
}

// pure returns why one of xs may have an effect, or "".
func (c *orderFree) pure(xs ...ast.Expr) string {
	why := ""
	for _, x := range xs {
		if x == nil {
			continue
		}
		ast.Inspect(x, func(n ast.Node) bool {
			if why != "" {
				return false
			}
			switch n := n.(type) {
			case *ast.FuncLit:
				why = "it builds a closure"
			case *ast.UnaryExpr:
				if n.Op == token.ARROW {
					why = "it receives from a channel"
				}
			case *ast.CallExpr:
				if tv, ok := c.info.Types[n.Fun]; ok && tv.IsType() {
					return true // a conversion
				}
				switch c.builtin(n) {
				case "len", "cap", "min", "max", "append", "new", "make", "real", "imag", "complex":
					return true
				}
				pkg, name := funcOf(c.info, n)
				if ok := pureFuncs[pkg]; ok != nil && ok(name) {
					return true
				}
				why = "it calls " + types.ExprString(n.Fun) + " in map order"
			}
			return true
		})
	}
	return why
}

func (c *orderFree) builtin(call *ast.CallExpr) string {
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if b, ok := c.info.Uses[id].(*types.Builtin); ok {
			return b.Name()
		}
	}
	return ""
}

func (c *orderFree) numeric(x ast.Expr) bool {
	tv, ok := c.info.Types[x]
	if !ok {
		return false
	}
	b, ok := tv.Type.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsNumeric != 0
}

func (c *orderFree) isMap(x ast.Expr) bool {
	tv, ok := c.info.Types[x]
	if !ok {
		return false
	}
	_, isMap := tv.Type.Underlying().(*types.Map)
	return isMap
}

func (c *orderFree) constant(x ast.Expr) bool {
	tv, ok := c.info.Types[x]
	return ok && (tv.Value != nil || tv.IsNil())
}
