// SVG files are bundled as strings (JupyterLab's webpack config: asset/source).
declare module '*.svg' {
  const value: string;
  export default value;
}
