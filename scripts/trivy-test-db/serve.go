package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The media types of Trivy's published DB (trivy pkg/db and pkg/oci).
const (
	dbLayerMediaType  = types.MediaType("application/vnd.aquasec.trivy.db.layer.v1.tar+gzip")
	dbConfigMediaType = types.MediaType("application/vnd.aquasec.trivy.config.v1+json")
	dbRepository      = "aquasecurity/trivy-db:2"
)

// packDB writes db.tar.gz holding trivy.db and metadata.json, as Trivy's release does.
func packDB(dbDir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"trivy.db", "metadata.json"} {
		data, err := os.ReadFile(filepath.Join(dbDir, name))
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func serveDB(dbDir, listen string) error {
	tmp, err := os.MkdirTemp("", "trivy-test-db-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	archive := filepath.Join(tmp, "db.tar.gz")
	if err := packDB(dbDir, archive); err != nil {
		return err
	}

	listener, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	server := &http.Server{Handler: registry.New()}
	go func() { _ = server.Serve(listener) }()

	layer, err := tarball.LayerFromFile(archive, tarball.WithMediaType(dbLayerMediaType))
	if err != nil {
		return err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:       layer,
		MediaType:   dbLayerMediaType,
		Annotations: map[string]string{"org.opencontainers.image.title": "db.tar.gz"},
	})
	if err != nil {
		return err
	}
	img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), dbConfigMediaType)

	address := listener.Addr().String()
	ref, err := name.ParseReference(address+"/"+dbRepository, name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	fmt.Printf("serving %s\n", ref.String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return server.Close()
}
