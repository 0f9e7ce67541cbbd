package web

import (
	"embed"
	"io/fs"
)

// files are the pages' sources and the bundle build.sh wrote (dist/ holds
// only a .gitignore until then; all: embeds it so the pattern always
// matches).
//
//go:embed demo/index.html demo/style.css admin all:dist
var files embed.FS

// DemoBundle is the demo's script, as the page loads it.
const DemoBundle = "demo.js"

// Demo is the chat demo: index.html, style.css and, once bundled, demo.js.
func Demo() fs.FS { return overlay{page: sub("demo"), dist: sub("dist")} }

// Admin is the admin page: index.html, admin.js, style.css.
func Admin() fs.FS { return sub("admin") }

// Bundled reports whether build.sh bundled the demo's script into this
// binary.
func Bundled() bool {
	_, err := fs.Stat(files, "dist/"+DemoBundle)
	return err == nil
}

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic("web: " + err.Error()) // dir is one of the embedded ones
	}
	return f
}

// overlay serves the page's files and, under the bundle's name, dist's.
type overlay struct{ page, dist fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	if name == DemoBundle || name == DemoBundle+".map" {
		return o.dist.Open(name)
	}
	return o.page.Open(name)
}
