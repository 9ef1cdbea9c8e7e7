import { readSync } from "node:fs";
import { statfs } from "node:fs/promises";

// statfs(2) f_type of the file systems an origin is read from synchronously: local disks and memory.
// Anything else (NFS, SMB/CIFS, FUSE such as sshfs or rclone, Ceph, 9p, or a type not listed) is read
// asynchronously, so a server that stops answering cannot freeze the mount process.
const LOCAL_FS_TYPES = new Set([
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x2fc12fc1, // zfs
  0xf2f52010, // f2fs
  0xca451a4e, // bcachefs
  0x01021994, // tmpfs
  0x794c7630, // overlayfs
  0x52654973, // reiserfs
  0x3153464a, // jfs
  0x4d44, // vfat
  0x2011bab0, // exfat
  0x5346544e, // ntfs (ntfs-3g reports FUSE)
  0x7366746e, // ntfs3
  0x482b, // hfsplus
  0x9660, // iso9660
  0x15013346, // udf
  0x73717368, // squashfs
  0xe0f5e1e2, // erofs
]);

/**
 * Whether files of this origin device are read synchronously in the FUSE callback. Origins on a local
 * disk are: libfuse hands the callbacks one at a time to the Node thread anyway, and a thread-pool round
 * trip per 128 KiB request costs about a fifth of cold sequential throughput. Decided once per device.
 */
export class OriginReadPolicy {
  private readonly byDevice = new Map<number, boolean>();

  async syncReads(dev: number, path: Buffer | string): Promise<boolean> {
    let local = this.byDevice.get(dev);
    if (local === undefined) {
      local = await statfs(path).then(
        (s) => LOCAL_FS_TYPES.has(s.type),
        () => false,
      );
      this.byDevice.set(dev, local);
    }
    return local;
  }
}

/** readFully for an origin on a local disk: straight into `buf`, without leaving the thread. */
export function readFullySync(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
