// A user's source module with a bug that shows as soon as it loads.
const config = JSON.parse('{ not json');
export default async () => void config;
