// Runs in every test file before anything else.
import 'reflect-metadata';
