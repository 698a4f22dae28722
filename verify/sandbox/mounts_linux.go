package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// mountRoot builds the function's root file system under cfg.Stage and
// returns its path. The image folder is never written: it is the lower
// layer of a read-only overlay whose upper lower layer (a tiny tmpfs
// "skeleton") only adds the mount points /dev, /proc and /tmp, so images
// without them still get them, and an image that ships /proc or /dev as a
// symlink cannot redirect our mounts.
func mountRoot(cfg *config) (string, error) {
	// Nothing we mount may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return "", fmt.Errorf("making mounts private: %w", err)
	}
	st := cfg.Stage
	if err := unix.Mount("tmpfs", st, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m,mode=0755"); err != nil {
		return "", fmt.Errorf("mounting staging tmpfs: %w", err)
	}
	skel, root := filepath.Join(st, "skel"), filepath.Join(st, "root")
	for _, d := range []string{skel, root, skel + "/dev", skel + "/proc", skel + "/tmp"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", fmt.Errorf("preparing mount points: %w", err)
		}
	}
	opts := "lowerdir=" + overlayEscape(skel) + ":" + overlayEscape(cfg.Root)
	if err := unix.Mount("overlay", root, "overlay", unix.MS_RDONLY|unix.MS_NODEV|unix.MS_NOSUID, opts); err != nil {
		return "", fmt.Errorf("mounting the image read-only (overlayfs on %s): %w", cfg.Root, err)
	}
	if err := unix.Mount("proc", root+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return "", fmt.Errorf("mounting /proc: %w", err)
	}
	// Lambda gives functions 512 MB of /tmp by default.
	if err := unix.Mount("tmpfs", root+"/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=512m,mode=1777"); err != nil {
		return "", fmt.Errorf("mounting /tmp: %w", err)
	}
	if err := mountDev(root + "/dev"); err != nil {
		return "", err
	}
	return root, nil
}

// mountDev gives the function a minimal /dev: the host's null, zero,
// random and urandom bind-mounted (no device node is ever created, and the
// function, not being root, cannot change them), plus the usual symlinks.
// Like Lambda, there is no /dev/shm.
func mountDev(dev string) error {
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
		return fmt.Errorf("mounting /dev: %w", err)
	}
	for _, name := range []string{"null", "zero", "random", "urandom"} {
		target := filepath.Join(dev, name)
		if err := os.WriteFile(target, nil, 0o666); err != nil {
			return fmt.Errorf("preparing /dev/%s: %w", name, err)
		}
		if err := unix.Mount("/dev/"+name, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("binding /dev/%s: %w", name, err)
		}
	}
	links := map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return fmt.Errorf("preparing /dev/%s: %w", name, err)
		}
	}
	if err := unix.Mount("", dev, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
		return fmt.Errorf("making /dev read-only: %w", err)
	}
	return nil
}

// overlayEscape escapes the characters overlayfs treats as separators.
func overlayEscape(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `:`, `\:`, `,`, `\,`)
	return r.Replace(p)
}

// enterRoot makes newRoot "/" for the whole mount namespace and detaches
// the host's root, so nothing of the host stays reachable (a chroot alone
// could be escaped).
func enterRoot(newRoot string) error {
	if err := unix.Chdir(newRoot); err != nil {
		return fmt.Errorf("entering the new root: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one;
	// detaching it leaves the new root alone.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the host root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return errors.New("entering the new root: " + err.Error())
	}
	return nil
}
