/** Stylesheets imported for their effect: esbuild puts them in the bundle's one CSS file. */
declare module '*.css';
