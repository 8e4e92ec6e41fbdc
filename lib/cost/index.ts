export * from './core';
export * from './format';
export * from './report';
