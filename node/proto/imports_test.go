package proto

import (
	"go/build"
	"slices"
	"testing"
)

// The package is pure: it imports only the packages doc.go names.
func TestImportsOnlyTheAllowedStandardPackages(t *testing.T) {
	allowed := []string{
		"crypto/aes", "crypto/cipher", "crypto/ecdh", "crypto/md5", "crypto/subtle",
		"encoding/base64", "encoding/binary", "encoding/hex", "errors", "fmt", "io", "strconv",
	}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if !slices.Contains(allowed, imp) {
			t.Errorf("imports %q, which doc.go does not allow", imp)
		}
	}
}
