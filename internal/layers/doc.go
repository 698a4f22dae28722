// Package layers holds no product code: its test keeps fnopt's packages in
// layers, with imports pointing only downward. docs/architecture.md draws
// the same layers; when you add a package, give it a layer in the table
// of layers_test.go.
package layers
