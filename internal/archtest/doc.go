// Package archtest holds tests of the code base's shape: which packages may
// name an app's wire details and which packages may import what. It has no
// code of its own; its tests run with go test ./....
package archtest
