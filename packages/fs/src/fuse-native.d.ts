// fuse-native 2.2.6 ships no types; this declares the part musicfs uses (see its index.js and README).
declare module "fuse-native" {
  type Cb = (code: number) => void;
  export interface FuseStat {
    mode: number;
    size: number;
    nlink?: number;
    uid?: number;
    gid?: number;
    mtime?: number | Date;
    atime?: number | Date;
    ctime?: number | Date;
    blocks?: number;
    blksize?: number;
    ino?: number;
  }
  export interface FuseOps {
    init?(cb: Cb): void;
    statfs?(path: string, cb: (code: number, statfs?: Record<string, number>) => void): void;
    getattr?(path: string, cb: (code: number, stat?: FuseStat) => void): void;
    fgetattr?(path: string, fd: number, cb: (code: number, stat?: FuseStat) => void): void;
    access?(path: string, mode: number, cb: Cb): void;
    readdir?(path: string, cb: (code: number, names?: string[], stats?: FuseStat[]) => void): void;
    open?(path: string, flags: number, cb: (code: number, fd?: number) => void): void;
    opendir?(path: string, flags: number, cb: (code: number, fd?: number) => void): void;
    read?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb): void;
    write?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb): void;
    release?(path: string, fd: number, cb: Cb): void;
    releasedir?(path: string, fd: number, cb: Cb): void;
    getxattr?(path: string, name: string, position: number, cb: (code: number, value?: Buffer | null) => void): void;
    listxattr?(path: string, cb: (code: number, list?: string[]) => void): void;
    setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: Cb): void;
    removexattr?(path: string, name: string, cb: Cb): void;
    create?(path: string, mode: number, cb: (code: number, fd?: number) => void): void;
    truncate?(path: string, size: number, cb: Cb): void;
    ftruncate?(path: string, fd: number, size: number, cb: Cb): void;
    unlink?(path: string, cb: Cb): void;
    rename?(src: string, dest: string, cb: Cb): void;
    link?(src: string, dest: string, cb: Cb): void;
    symlink?(src: string, dest: string, cb: Cb): void;
    mkdir?(path: string, mode: number, cb: Cb): void;
    rmdir?(path: string, cb: Cb): void;
    mknod?(path: string, mode: number, dev: number, cb: Cb): void;
    chmod?(path: string, mode: number, cb: Cb): void;
    chown?(path: string, uid: number, gid: number, cb: Cb): void;
    utimens?(path: string, atime: number, mtime: number, cb: Cb): void;
    flush?(path: string, fd: number, cb: Cb): void;
    fsync?(path: string, datasync: boolean, fd: number, cb: Cb): void;
  }
  export interface FuseOptions {
    force?: boolean;
    mkdir?: boolean;
    allowOther?: boolean;
    autoCache?: boolean;
    kernelCache?: boolean;
    fsname?: string;
    subtype?: string;
    attrTimeout?: number;
    entryTimeout?: number;
    maxRead?: number;
    debug?: boolean;
    timeout?: number | false;
  }
  export default class Fuse {
    constructor(mnt: string, ops: FuseOps, opts?: FuseOptions);
    readonly mnt: string;
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    /** The "-o ..." argument handed to libfuse (overridden to add options fuse-native has no flag for). */
    protected _fuseOptions(): string;
    static unmount(mnt: string, cb: (err: Error | null) => void): void;
  }
}
