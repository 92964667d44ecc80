/** `.fences[2].id`: where in a JSON value, as the path of keys and indices a checker reports */
export const pathText = (path: readonly PropertyKey[]): string => path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
