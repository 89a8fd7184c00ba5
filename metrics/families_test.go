package metrics

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// familyFiles are the files of the families that see the session core
// only through shared and their own small interfaces (sessionCore,
// sessionLogs). Alerts and rankings are not among them: they read the
// core's hourly cells (figures.go) and are part of it.
var familyFiles = []string{"attribution*.go", "attrstate.go", "attrstats.go", "robot.go", "exclusive*.go", "wake.go"}

// TestFamiliesHoldNoEngine: no family file names the Engine, except in the
// engine's own methods that read a family (its stats), so a family cannot
// reach into the session core's private state.
func TestFamiliesHoldNoEngine(t *testing.T) {
	fset := token.NewFileSet()
	seen := 0
	for _, pattern := range familyFiles {
		names, _ := filepath.Glob(pattern)
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			seen++
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				if fn, ok := d.(*ast.FuncDecl); ok && isEngineMethod(fn) {
					continue
				}
				ast.Inspect(d, func(n ast.Node) bool {
					if id, ok := n.(*ast.Ident); ok && id.Name == "Engine" {
						t.Errorf("%s: a family names the Engine; give it what it needs through shared or its interface", fset.Position(id.Pos()))
					}
					return true
				})
			}
		}
	}
	if seen < 8 {
		t.Fatalf("found %d family files: the patterns are stale", seen)
	}
}

func isEngineMethod(fn *ast.FuncDecl) bool {
	if fn.Recv == nil || len(fn.Recv.List) != 1 {
		return false
	}
	star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := star.X.(*ast.Ident)
	return ok && id.Name == "Engine"
}
