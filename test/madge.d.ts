// The part of madge's API the architecture test uses (it ships no types).
declare module 'madge' {
  interface MadgeResult {
    /** Each file (relative to the base folder) with the files it imports. */
    obj(): Record<string, string[]>;
    /** Every import circle, as the files along it. */
    circular(): string[][];
  }
  interface MadgeConfig {
    fileExtensions?: string[];
    excludeRegExp?: RegExp[];
    tsConfig?: string;
  }
  export default function madge(path: string, config?: MadgeConfig): Promise<MadgeResult>;
}
