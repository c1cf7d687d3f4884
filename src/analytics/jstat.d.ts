// jStat ships no type declarations; this covers what flagledger uses.
declare module 'jstat' {
  interface JStat {
    chisquare: { cdf(x: number, degreesOfFreedom: number): number };
  }
  const jStat: JStat & { jStat: JStat };
  export default jStat;
}
